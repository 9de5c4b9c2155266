package dev.easel.core.plugin;

import java.util.Objects;

/**
 * What a user or a job asks for: an id ({@code lora/kohya}), a family alone when one implementation is installed
 * ({@code weighted_sum}), optionally with a version range after {@code @} ({@code lora/kohya@[1,2)}).
 *
 * @param id    the full id or the family
 * @param range the acceptable versions
 */
public record PluginSelector(String id, VersionRange range) {
    public PluginSelector {
        Objects.requireNonNull(id, "id is null");
        Objects.requireNonNull(range, "range is null");
    }

    /** Parses {@code id} or {@code id@range}. */
    public static PluginSelector parse(String text) {
        int at = text.indexOf('@');
        if (at < 0) {
            return new PluginSelector(text.trim(), VersionRange.ANY);
        }
        return new PluginSelector(text.substring(0, at).trim(), VersionRange.parse(text.substring(at + 1)));
    }

    /** Whether the selector names a family rather than a full {@code family/impl} id. */
    public boolean isFamily() {
        return id.indexOf('/') < 0;
    }

    @Override
    public String toString() {
        return range == VersionRange.ANY ? id : id + "@" + range;
    }
}
