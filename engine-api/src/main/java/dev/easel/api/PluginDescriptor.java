package dev.easel.api;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Names one plugin service: what users type to select it, which version of its behaviour it implements, and a
 * sentence for humans.
 *
 * <p>The {@code id} has the form {@code family/impl}: the family says what is computed ({@code lora},
 * {@code weighted_sum}, {@code format}), the implementation says whose semantics ({@code kohya}, {@code basic},
 * {@code safetensors}). Rival implementations of one method therefore never fight over a bare name, and users may
 * still select by family alone when it is unambiguous. Ids use lower-case letters, digits, {@code _}, {@code -} and
 * {@code .}.
 *
 * @param id          {@code family/impl}
 * @param version     the semantic version of the behaviour (results, file layout, parameters)
 * @param description one human sentence, shown by {@code easel plugins list}
 */
public record PluginDescriptor(String id, SemanticVersion version, String description) {
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*");

    public PluginDescriptor {
        Objects.requireNonNull(id, "id is null");
        Objects.requireNonNull(version, "version is null");
        Objects.requireNonNull(description, "description is null");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException(
                    "plugin id '" + id + "' is not of the form family/impl (for example lora/kohya)");
        }
    }

    /** Convenience factory parsing the version. */
    public static PluginDescriptor of(String id, String version, String description) {
        return new PluginDescriptor(id, SemanticVersion.parse(version), description);
    }

    /** The part before the slash: what the service computes. */
    public String family() {
        return id.substring(0, id.indexOf('/'));
    }

    /** The part after the slash: whose semantics it follows. */
    public String implementation() {
        return id.substring(id.indexOf('/') + 1);
    }
}
