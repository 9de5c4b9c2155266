package dev.easel.core.train.config;

import dev.easel.api.ParameterValues;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated training job: the engine's settings and the method's parameters, both typed and complete (defaults
 * filled in), plus the warnings the config produced.
 *
 * @param source     the config file, or {@code --param}/{@code request} when there was none
 * @param methodId   the training method selector ({@code lora/kohya})
 * @param engine     values of {@link EngineKeys#SCHEMA}
 * @param method     values of the method's schema
 * @param warnings   one line each, naming the key
 * @param raw        every key as given (after overrides), for the state folder and provenance
 */
public record JobConfig(String source, String methodId, ParameterValues engine, ParameterValues method,
                        List<String> warnings, Map<String, Object> raw) {
    public JobConfig {
        warnings = List.copyOf(warnings);
        raw = Collections.unmodifiableMap(new LinkedHashMap<>(raw));
    }

    /** An engine string value, {@code null} if empty. */
    public String text(String key) {
        String v = engine.getString(key);
        return v == null || v.isBlank() ? null : v;
    }

    /** An engine path value resolved against the working directory, {@code null} if empty. */
    public Path path(String key) {
        String v = text(key);
        return v == null ? null : Path.of(v).toAbsolutePath().normalize();
    }

    /** The training resolution as {@code {width, height}} (kohya: {@code 512} or {@code 512,768}). */
    public int[] resolution() {
        return Resolutions.parse(source, "resolution", engine.getString("resolution"));
    }

    /** The output folder. */
    public Path outputDir() {
        return path("output_dir");
    }

    /** The result's base name. */
    public String outputName() {
        return engine.getString("output_name");
    }
}
