package dev.easel.core.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.easel.core.train.config.ConfigException;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.config.Resolutions;
import dev.easel.core.train.config.Suggestions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The datasets of a job: from kohya's dataset TOML ({@code [general]}, {@code [[datasets]]},
 * {@code [[datasets.subsets]]}; a lower level overrides a higher one, the job's own keys are the lowest) or from
 * {@code train_data_dir}/{@code reg_data_dir} folders, with kohya's {@code N_name} subfolders or plain images.
 */
public final class DatasetConfigs {
    private static final Pattern REPEATS_FOLDER = Pattern.compile("^(\\d+)_(.*)$");
    private static final Set<String> SUBSET_KEYS = Set.of("shuffle_caption", "caption_extension", "keep_tokens",
            "keep_tokens_separator", "flip_aug", "random_crop", "caption_dropout_rate",
            "caption_dropout_every_n_epochs", "caption_tag_dropout_rate", "caption_prefix", "caption_suffix");
    private static final Set<String> DATASET_KEYS = Set.of("resolution", "batch_size", "enable_bucket",
            "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps", "bucket_no_upscale");
    private static final Set<String> SUBSET_ONLY = Set.of("image_dir", "num_repeats", "class_tokens", "is_reg");
    private static final Set<String> IGNORED = Set.of("cache_info");
    private static final Set<String> UNSUPPORTED = Set.of("metadata_file", "color_aug", "face_crop_aug_range",
            "alpha_mask", "conditioning_data_dir", "secondary_separator", "enable_wildcard", "token_warmup_min",
            "token_warmup_step", "validation_split", "validation_seed", "network_multiplier", "custom_attributes",
            "resize_interpolation", "caption_separator", "debug_dataset");

    private DatasetConfigs() {
    }

    /** The datasets of a job. */
    public static List<DatasetSpec> of(JobConfig job, Consumer<String> warnings) {
        Path toml = job.path("dataset_config");
        if (toml != null) {
            return fromToml(toml, job, warnings);
        }
        Map<String, Object> defaults = jobDefaults(job);
        List<Subset> subsets = new ArrayList<>();
        subsets.addAll(folderSubsets(job.path("train_data_dir"), false, defaults, job.source(), warnings));
        Path reg = job.path("reg_data_dir");
        if (reg != null) {
            subsets.addAll(folderSubsets(reg, true, defaults, job.source(), warnings));
        }
        return List.of(dataset(defaults, job.source(), subsets));
    }

    /** Reads a kohya dataset TOML; the job's keys are the defaults. */
    public static List<DatasetSpec> fromToml(Path file, JobConfig job, Consumer<String> warnings) {
        String src = file.toString();
        JsonNode root;
        try {
            root = new TomlMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException(src, null, Files.exists(file) ? "not valid TOML: " + e.getMessage()
                    : "no such file");
        }
        Map<String, Object> general = new LinkedHashMap<>(jobDefaults(job));
        Iterator<Map.Entry<String, JsonNode>> top = root.fields();
        while (top.hasNext()) {
            Map.Entry<String, JsonNode> e = top.next();
            if (!e.getKey().equals("general") && !e.getKey().equals("datasets")) {
                throw new ConfigException(src, e.getKey(), "unknown table '" + e.getKey()
                        + "' (a dataset config has [general] and [[datasets]])");
            }
        }
        if (root.has("general")) {
            read(root.get("general"), "[general]", src, general, union(SUBSET_KEYS, DATASET_KEYS), warnings);
        }
        JsonNode datasets = root.get("datasets");
        if (datasets == null || !datasets.isArray() || datasets.isEmpty()) {
            throw new ConfigException(src, "datasets", "no [[datasets]]");
        }
        List<DatasetSpec> out = new ArrayList<>();
        for (JsonNode d : datasets) {
            Map<String, Object> level = new LinkedHashMap<>(general);
            read(d, "[[datasets]]", src, level, union(SUBSET_KEYS, DATASET_KEYS, Set.of("subsets")), warnings);
            JsonNode subsetNodes = d.get("subsets");
            if (subsetNodes == null || !subsetNodes.isArray() || subsetNodes.isEmpty()) {
                throw new ConfigException(src, "subsets", "a [[datasets]] entry has no [[datasets.subsets]]");
            }
            List<Subset> subsets = new ArrayList<>();
            for (JsonNode s : subsetNodes) {
                Map<String, Object> sub = new LinkedHashMap<>(level);
                read(s, "[[datasets.subsets]]", src, sub, union(SUBSET_KEYS, SUBSET_ONLY), warnings);
                Object dir = sub.get("image_dir");
                if (dir == null) {
                    throw new ConfigException(src, "image_dir", "a [[datasets.subsets]] entry has no image_dir");
                }
                Path imageDir = Path.of(dir.toString()).toAbsolutePath().normalize();
                if (!Files.isDirectory(imageDir)) {
                    throw new ConfigException(src, "image_dir", "image_dir " + imageDir + " is not a folder");
                }
                subsets.add(subset(sub, imageDir, intOf(sub, "num_repeats", 1, src),
                        String.valueOf(sub.getOrDefault("class_tokens", "")), boolOf(sub, "is_reg", false, src), src));
            }
            out.add(dataset(level, src, subsets));
        }
        return out;
    }

    private static void read(JsonNode node, String where, String src, Map<String, Object> into, Set<String> allowed,
                             Consumer<String> warnings) {
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            String key = f.getKey();
            if (allowed.contains(key)) {
                if (key.equals("subsets")) {
                    continue;
                }
                JsonNode v = f.getValue();
                into.put(key, v.isArray() ? v.toString() : v.isTextual() ? v.textValue() : v.isBoolean()
                        ? (Object) v.booleanValue() : v.isIntegralNumber() ? (Object) v.longValue() : v.isNumber()
                        ? (Object) v.doubleValue() : v.toString());
            } else if (IGNORED.contains(key)) {
                warnings.accept(src + ": dataset key '" + key + "' has no effect in Easel");
            } else if (UNSUPPORTED.contains(key) && dev.easel.core.train.config.KohyaKeys.inert(key,
                    f.getValue().isBoolean() ? f.getValue().booleanValue() : f.getValue().isNumber()
                    ? f.getValue().numberValue() : f.getValue().isArray() && f.getValue().isEmpty() ? java.util.List.of()
                    : f.getValue().asText())) {
                continue;
            } else if (UNSUPPORTED.contains(key)) {
                throw new ConfigException(src, key, "dataset key '" + key + "' is not supported by Easel yet");
            } else {
                throw new ConfigException(src, key, "unknown key '" + key + "' in " + where
                        + Suggestions.closest(key, allowed).map(s -> " (did you mean '" + s + "'?)").orElse(""));
            }
        }
    }

    private static Map<String, Object> jobDefaults(JobConfig job) {
        Map<String, Object> d = new LinkedHashMap<>();
        for (String k : SUBSET_KEYS) {
            d.put(k, job.engine().asMap().get(k));
        }
        d.put("resolution", job.engine().getString("resolution"));
        d.put("batch_size", job.engine().getLong("train_batch_size"));
        for (String k : List.of("enable_bucket", "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps",
                "bucket_no_upscale")) {
            d.put(k, job.engine().asMap().get(k));
        }
        return d;
    }

    private static List<Subset> folderSubsets(Path dir, boolean reg, Map<String, Object> defaults, String src,
                                              Consumer<String> warnings) {
        String key = reg ? "reg_data_dir" : "train_data_dir";
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(src, key, key + " " + dir + " is not a folder");
        }
        List<Subset> out = new ArrayList<>();
        boolean plainImages;
        List<Path> children;
        try (Stream<Path> s = Files.list(dir)) {
            children = s.sorted().toList();
        } catch (IOException e) {
            throw new ConfigException(src, key, "cannot list " + dir + ": " + e.getMessage());
        }
        plainImages = children.stream().anyMatch(p -> Files.isRegularFile(p) && ImageFiles.isImage(p));
        if (plainImages) {
            out.add(subset(defaults, dir, 1, "", reg, src));
        }
        for (Path child : children) {
            if (!Files.isDirectory(child) || child.getFileName().toString().startsWith(".")) {
                continue;
            }
            Matcher m = REPEATS_FOLDER.matcher(child.getFileName().toString());
            if (!m.matches()) {
                warnings.accept(child + ": folder ignored; kohya folders are named N_name (N repeats)");
                continue;
            }
            out.add(subset(defaults, child, Integer.parseInt(m.group(1)), m.group(2).strip(), reg, src));
        }
        if (out.isEmpty()) {
            throw new ConfigException(src, key, dir + " has no images and no N_name folders");
        }
        return out;
    }

    private static Subset subset(Map<String, Object> o, Path dir, int repeats, String classTokens, boolean reg,
                                 String src) {
        if (repeats < 1) {
            throw new ConfigException(src, "num_repeats", dir + ": num_repeats must be at least 1");
        }
        CaptionOptions captions = new CaptionOptions(boolOf(o, "shuffle_caption", false, src),
                intOf(o, "keep_tokens", 0, src), String.valueOf(o.getOrDefault("keep_tokens_separator", "")),
                doubleOf(o, "caption_dropout_rate", 0, src), intOf(o, "caption_dropout_every_n_epochs", 0, src),
                doubleOf(o, "caption_tag_dropout_rate", 0, src), String.valueOf(o.getOrDefault("caption_prefix", "")),
                String.valueOf(o.getOrDefault("caption_suffix", "")));
        String ext = String.valueOf(o.getOrDefault("caption_extension", ".caption"));
        return new Subset(dir, repeats, classTokens, reg, ext.startsWith(".") ? ext : "." + ext, captions,
                boolOf(o, "flip_aug", false, src), boolOf(o, "random_crop", false, src));
    }

    private static DatasetSpec dataset(Map<String, Object> o, String src, List<Subset> subsets) {
        Object reso = o.get("resolution");
        int[] wh = Resolutions.parse(src, "resolution", reso instanceof String s && s.startsWith("[")
                ? s.substring(1, s.length() - 1) : reso);
        int steps = intOf(o, "bucket_reso_steps", 64, src);
        if (steps % 8 != 0) {
            throw new ConfigException(src, "bucket_reso_steps", "'bucket_reso_steps' must be a multiple of 8");
        }
        return new DatasetSpec(wh[0], wh[1], intOf(o, "batch_size", 1, src), boolOf(o, "enable_bucket", false, src),
                intOf(o, "min_bucket_reso", 256, src), intOf(o, "max_bucket_reso", 1024, src), steps,
                boolOf(o, "bucket_no_upscale", false, src), subsets);
    }

    private static int intOf(Map<String, Object> o, String key, int dflt, String src) {
        Object v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return v instanceof Number n ? Math.toIntExact(n.longValue()) : Integer.parseInt(v.toString().trim());
        } catch (RuntimeException e) {
            throw new ConfigException(src, key, "'" + key + "' must be a whole number, not '" + v + "'");
        }
    }

    private static double doubleOf(Map<String, Object> o, String key, double dflt, String src) {
        Object v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return v instanceof Number n ? n.doubleValue() : Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(src, key, "'" + key + "' must be a number, not '" + v + "'");
        }
    }

    private static boolean boolOf(Map<String, Object> o, String key, boolean dflt, String src) {
        Object v = o.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim();
        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new ConfigException(src, key, "'" + key + "' must be true or false, not '" + v + "'");
    }

    @SafeVarargs
    private static Set<String> union(Set<String>... sets) {
        java.util.HashSet<String> all = new java.util.HashSet<>();
        for (Set<String> s : sets) {
            all.addAll(s);
        }
        return all;
    }
}
