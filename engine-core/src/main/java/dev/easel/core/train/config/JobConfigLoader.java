package dev.easel.core.train.config;

import dev.easel.api.InvalidParameterException;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterType;
import dev.easel.api.ParameterValues;
import dev.easel.core.train.optim.Optimizers;
import dev.easel.core.train.optim.StepwiseLearningRate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a config file plus overrides into a validated {@link JobConfig}, before any work starts. Every key is
 * routed: to the engine ({@link EngineKeys}), to the method's schema, to a warning (a kohya key with no meaning
 * here) or to an error naming the key and the file, with a suggestion for a misspelling.
 */
public final class JobConfigLoader {
    /** kohya {@code network_module} values and the Easel method each selects. */
    public static final Map<String, String> NETWORK_MODULES = Map.of(
            "networks.lora", "lora/kohya",
            "networks.dylora", "dylora/kohya",
            "networks.lora_fa", "lora-fa/kohya",
            "networks.oft", "oft/kohya",
            "lycoris.kohya", "lycoris/kohya");

    /** The method family a config with kohya's {@code token_string} and no network selects. */
    public static final String TEXTUAL_INVERSION = "textual-inversion";

    /** Engine keys only a method's export can honour. */
    private static final List<String> METHOD_OUTPUT_KEYS = List.of("save_model_as", "save_precision");

    private final MethodResolver methods;
    private final java.util.function.Supplier<Optional<String>> defaultModel;

    public JobConfigLoader(MethodResolver methods) {
        this(methods, Optional::empty);
    }

    /**
     * @param defaultModel the base model of jobs that name none (Easel Tiny), if one is installed
     */
    public JobConfigLoader(MethodResolver methods, java.util.function.Supplier<Optional<String>> defaultModel) {
        this.methods = methods;
        this.defaultModel = defaultModel;
    }

    /**
     * Loads a job.
     *
     * @param file      the config file (TOML or JSON), or {@code null}
     * @param method    {@code --method}, or {@code null}
     * @param overrides {@code --param key=value} pairs, applied after the file
     */
    public JobConfig load(Path file, String method, Map<String, String> overrides) {
        Map<String, Object> raw = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        String fileSource = file == null ? "--param" : file.toString();
        if (file != null) {
            ConfigFile.read(file).forEach((k, v) -> {
                raw.put(k, v);
                sources.put(k, fileSource);
            });
        }
        overrides.forEach((k, v) -> {
            raw.put(k, v);
            sources.put(k, "--param");
        });
        if (method != null && !method.isBlank()) {
            raw.put("method", method);
            sources.put("method", "--method");
        }
        return resolve(fileSource, raw, sources);
    }

    /** Loads a job from already-parsed values (the HTTP API's JSON body). */
    public JobConfig load(String source, Map<String, Object> values) {
        Map<String, String> sources = new LinkedHashMap<>();
        values.keySet().forEach(k -> sources.put(k, source));
        return resolve(source, new LinkedHashMap<>(values), sources);
    }

    private JobConfig resolve(String source, Map<String, Object> given, Map<String, String> sources) {
        List<String> warnings = new ArrayList<>();
        Map<String, Object> raw = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : given.entrySet()) {
            String alias = KohyaKeys.ALIASES.get(e.getKey());
            if (alias != null && !given.containsKey(alias)) {
                warnings.add(sources.getOrDefault(e.getKey(), source) + ": '" + e.getKey() + "' is kohya's old"
                        + " spelling of '" + alias + "'");
                raw.put(alias, e.getValue());
                sources.put(alias, sources.getOrDefault(e.getKey(), source));
            } else {
                raw.put(e.getKey(), e.getValue());
            }
        }
        String methodId = methodId(raw, sources, source);
        ParameterSchema methodSchema;
        try {
            methodSchema = methods.schema(methodId);
        } catch (RuntimeException e) {
            String key = raw.containsKey("method") ? "method" : "network_module";
            throw new ConfigException(sources.getOrDefault(key, source), key, e.getMessage());
        }
        ParameterSchema engineSchema = EngineKeys.SCHEMA;
        Map<String, Object> engineRaw = new LinkedHashMap<>();
        Map<String, Object> methodRaw = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            String from = sources.getOrDefault(key, source);
            boolean engine = engineSchema.spec(key).isPresent();
            Optional<ParameterSpec> methodSpec = methodSchema.spec(key);
            if (value == null) {
                continue;
            }
            if (engine) {
                engineRaw.put(key, flattenList(engineSchema.spec(key).get(), value));
            }
            if (methodSpec.isPresent()) {
                methodRaw.put(key, flattenList(methodSpec.get(), value));
            }
            if (engine || methodSpec.isPresent()) {
                continue;
            }
            if (KohyaKeys.IGNORED.containsKey(key)) {
                warnings.add(from + ": kohya key '" + key + "' has no effect in Easel (" + KohyaKeys.IGNORED.get(key)
                        + ")");
            } else if (KohyaKeys.UNSUPPORTED.contains(key) && KohyaKeys.inert(key, value)) {
                continue;
            } else if (KohyaKeys.UNSUPPORTED.contains(key)) {
                throw new ConfigException(from, key, "kohya key '" + key + "' is not supported by Easel yet;"
                        + " remove it to train without it");
            } else if (KohyaKeys.NETWORK.contains(key)) {
                throw new ConfigException(from, key, "key '" + key + "' is not a parameter of method '" + methodId
                        + "'" + (methodSchema.specs().isEmpty() ? "" : "; it takes: " + names(methodSchema)));
            } else {
                Set<String> known = new LinkedHashSet<>();
                engineSchema.specs().forEach(s -> known.add(s.name()));
                methodSchema.specs().forEach(s -> known.add(s.name()));
                known.addAll(KohyaKeys.IGNORED.keySet());
                known.addAll(KohyaKeys.UNSUPPORTED);
                known.addAll(KohyaKeys.NETWORK);
                throw new ConfigException(from, key, "unknown key '" + key + "'" + Suggestions.closest(key, known)
                        .map(s -> " (did you mean '" + s + "'?)").orElse(""));
            }
        }
        if (!engineRaw.containsKey("output_name") && raw.get("token_string") != null
                && !raw.get("token_string").toString().isBlank()) {
            // kohya's train_textual_inversion.py names its result after the token when output_name is not given
            engineRaw.put("output_name", raw.get("token_string").toString().trim());
        }
        if (!engineRaw.containsKey("pretrained_model_name_or_path")) {
            Optional<String> fallback = defaultModel.get();
            if (fallback.isEmpty()) {
                throw new ConfigException(source, "pretrained_model_name_or_path",
                        "'pretrained_model_name_or_path' is required: the base model to train on (Easel Tiny, the "
                                + "default, is not installed)");
            }
            engineRaw.put("pretrained_model_name_or_path", fallback.get());
            sources.put("pretrained_model_name_or_path", "default (Easel Tiny)");
        }
        ParameterValues engineValues = validate(engineSchema, engineRaw, sources, source);
        String lr = engineValues.getString("learning_rate");
        StepwiseLearningRate schedule;
        try {
            schedule = StepwiseLearningRate.parse(lr);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(sources.getOrDefault("learning_rate", source), "learning_rate",
                    "'learning_rate' " + e.getMessage());
        }
        Optional<ParameterSpec> methodLr = methodSchema.spec("learning_rate");
        if (methodLr.isPresent() && methodLr.get().type() == ParameterType.FLOAT && raw.containsKey("learning_rate")) {
            // A method sees the first rate of an A1111 schedule; the engine scales every group along the schedule.
            methodRaw.put("learning_rate", schedule.initial());
        }
        ParameterValues methodValues = validate(methodSchema, methodRaw, sources, source);
        checkCombinations(engineValues, sources, source);
        String optimizer = Optimizers.configuredType(engineValues);
        try {
            // Builds nothing (no arrays until the first step); only checks the name and the arguments.
            Optimizers.create(optimizer, engineValues.getString("optimizer_args"), null,
                    w -> warnings.add(sources.getOrDefault("optimizer_type", source) + ": " + w));
        } catch (IllegalArgumentException e) {
            String key = e.getMessage().startsWith("optimizer_args") ? "optimizer_args" : "optimizer_type";
            throw new ConfigException(sources.getOrDefault(key, source), key, e.getMessage());
        }
        for (String key : METHOD_OUTPUT_KEYS) {
            if (raw.containsKey(key) && methodSchema.spec(key).isEmpty()) {
                warnings.add(sources.getOrDefault(key, source) + ": method '" + methodId + "' chooses its own output"
                        + " format; '" + key + "' has no effect on it");
            }
        }
        if (!engineValues.getString("mixed_precision").equals("no")) {
            warnings.add(sources.getOrDefault("mixed_precision", source) + ": mixed_precision = "
                    + engineValues.getString("mixed_precision") + " applies to frozen weights on devices that support"
                    + " it; trainable tensors stay fp32");
        }
        return new JobConfig(source, methodId, engineValues, methodValues, warnings, raw);
    }

    private static String methodId(Map<String, Object> raw, Map<String, String> sources, String source) {
        Object method = raw.get("method");
        if (method != null && !method.toString().isBlank()) {
            return method.toString().trim();
        }
        Object module = raw.get("network_module");
        if (module != null && !module.toString().isBlank()) {
            String id = NETWORK_MODULES.get(module.toString().trim());
            if (id == null) {
                throw new ConfigException(sources.getOrDefault("network_module", source), "network_module",
                        "network_module '" + module + "' is not known; known: "
                                + new TreeSet<>(NETWORK_MODULES.keySet()) + " (or set 'method' to a method id)");
            }
            return id;
        }
        if (raw.get("token_string") != null) {
            // a config of kohya's train_textual_inversion.py: it has a token and no network
            return TEXTUAL_INVERSION;
        }
        throw new ConfigException(source, "method", "no training method: set 'method' (for example lora/kohya) or"
                + " kohya's 'network_module'");
    }

    private static Object flattenList(ParameterSpec spec, Object value) {
        if (value instanceof List<?> list && spec.type() != ParameterType.FLOAT_LIST) {
            // kohya passes network_args / optimizer_args as separate "key=value" words.
            return String.join(" ", list.stream().map(String::valueOf).toList());
        }
        return value;
    }

    private static ParameterValues validate(ParameterSchema schema, Map<String, Object> values,
                                            Map<String, String> sources, String source) {
        try {
            return schema.validate(values);
        } catch (InvalidParameterException e) {
            throw new ConfigException(sources.getOrDefault(e.parameter(), source), e.parameter(), e.getMessage());
        }
    }

    private static void checkCombinations(ParameterValues v, Map<String, String> sources, String source) {
        if (v.getString("train_data_dir").isBlank() && v.getString("dataset_config").isBlank()) {
            throw new ConfigException(source, "train_data_dir",
                    "no images: set 'train_data_dir' (or a kohya 'dataset_config')");
        }
        Resolutions.parse(sources.getOrDefault("resolution", source), "resolution", v.getString("resolution"));
        if (v.getLong("min_bucket_reso") > v.getLong("max_bucket_reso")) {
            throw new ConfigException(sources.getOrDefault("min_bucket_reso", source), "min_bucket_reso",
                    "'min_bucket_reso' " + v.getLong("min_bucket_reso") + " is above 'max_bucket_reso' "
                            + v.getLong("max_bucket_reso"));
        }
        if (v.getLong("bucket_reso_steps") % 8 != 0) {
            throw new ConfigException(sources.getOrDefault("bucket_reso_steps", source), "bucket_reso_steps",
                    "'bucket_reso_steps' must be a multiple of 8, not " + v.getLong("bucket_reso_steps"));
        }
        if (v.getDouble("adaptive_noise_scale") != 0 && v.getDouble("noise_offset") == 0) {
            throw new ConfigException(sources.getOrDefault("adaptive_noise_scale", source), "adaptive_noise_scale",
                    "'adaptive_noise_scale' needs 'noise_offset'");
        }
        if (v.getBoolean("scale_v_pred_loss_like_noise_pred") && !v.getBoolean("v_parameterization")) {
            throw new ConfigException(sources.getOrDefault("scale_v_pred_loss_like_noise_pred", source),
                    "scale_v_pred_loss_like_noise_pred", "'scale_v_pred_loss_like_noise_pred' needs"
                            + " 'v_parameterization'");
        }
        if (v.getLong("min_timestep") >= v.getLong("max_timestep")) {
            throw new ConfigException(sources.getOrDefault("min_timestep", source), "min_timestep",
                    "'min_timestep' must be below 'max_timestep'");
        }
    }

    private static String names(ParameterSchema schema) {
        return String.join(", ", schema.specs().stream().map(ParameterSpec::name).toList());
    }
}
