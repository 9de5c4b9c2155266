package dev.easel.core.quickstart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.BuildInfo;
import dev.easel.core.Easel;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.merge.BlockWeights;
import dev.easel.core.merge.MergeExecutor;
import dev.easel.core.merge.MergeRequest;
import dev.easel.core.merge.MergeResult;
import dev.easel.core.merge.RecipeNode;
import dev.easel.core.plugin.PluginRecord;
import dev.easel.core.plugin.PluginState;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the quickstart on Easel Tiny, Easel's own small pretrained model: shows the engine and its plugins, samples a
 * grid and measures how well the samples follow their prompts (pixel-statistics check), asks for a shape the model
 * never saw, trains a kohya LoRA on that shape with {@code easel train}, samples with it (the check again, with and
 * without the LoRA), bakes it, merges the baked model with Easel Tiny (plain and block-weighted, every merged value
 * checked against its formula), extracts the LoRA back, and writes {@code report.md} with the images and the loss
 * curve. A failed check of a merged value is an error, not a line in the report.
 */
public final class Quickstart {
    /** Block weights of the demo: text encoder and VAE (BASE) from A, the UNet sliding from A to B. */
    static final String BLOCK_WEIGHTS = "0,0,0,0,0.1,0.2,0.3,0.3,0.4,0.4,0.5,0.5,0.5,0.5,"
            + "0.5,0.5,0.6,0.6,0.7,0.7,0.8,0.8,0.9,0.9,1,1";
    /** The shape Easel Tiny never saw, which the LoRA teaches. */
    static final String NEW_SHAPE = "cross";
    static final String NEW_SHAPE_PROMPT = "a red cross on a blue background";

    /** Runs an {@code easel} command line in this process, the way a user would type it. */
    @FunctionalInterface
    public interface CommandRunner {
        /** @return the exit status */
        int run(PrintWriter out, PrintWriter err, String... args);
    }

    /**
     * How much work: LoRA training steps and samples per measured rate. The defaults take a few minutes on two CPU
     * cores; tests use less.
     */
    public record Settings(int loraSteps, int samples) {
        public static Settings standard() {
            return new Settings(300, 16);
        }
    }

    private static final Pattern RATES = Pattern.compile("(\\d+) samples: colour (\\d+)%, background (\\d+)%, "
            + "shape (\\d+)%, colour and shape (\\d+)%");

    /** The rates one {@code easel dataset eval} printed. */
    record Rates(int samples, int colour, int background, int shape, int adherence) {
        static Rates of(String output) {
            Matcher m = RATES.matcher(output);
            if (!m.find()) {
                throw new IllegalStateException("easel dataset eval printed no rates: " + output);
            }
            return new Rates(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)));
        }
    }

    private final Easel easel;
    private final Path out;
    private final Path tiny;
    private final Settings settings;
    private final PrintWriter log;
    private final CommandRunner cli;
    private final Map<String, Rates> rates = new LinkedHashMap<>();

    /**
     * @param tiny the Easel Tiny weights ({@link dev.easel.core.sd.model.EaselTiny#locate})
     */
    public Quickstart(Easel easel, Path out, Path tiny, Settings settings, PrintWriter log, CommandRunner cli) {
        this.easel = easel;
        this.out = out;
        this.tiny = tiny;
        this.settings = settings;
        this.log = log;
        this.cli = cli;
    }

    /** The rates measured so far, by step: {@code base}, {@code new-shape}, {@code with-lora}, ... */
    public Map<String, Rates> rates() {
        return Map.copyOf(rates);
    }

    /**
     * Runs every step.
     *
     * @return the report file
     * @throws IllegalStateException if a merged value is not what its formula gives
     */
    public Path run() throws IOException {
        long start = System.nanoTime();
        Files.createDirectories(out.resolve("models"));
        QuickstartReport report = new QuickstartReport("Easel quickstart");
        report.paragraph("Easel " + BuildInfo.easelVersion() + " on DJL " + BuildInfo.djlVersion() + " (PyTorch "
                + BuildInfo.pytorchVersion() + ", " + easel.runtime().device() + "). Everything below ran in one "
                + "engine process on Easel Tiny, Easel's own small model (SD 1.5's architecture and key layout at "
                + "small widths, trained by Easel on coloured shapes: docs/easel-tiny.md); re-run it with "
                + "`./easel quickstart`.");
        engine(report);
        inspect(report);
        baseGrid(report);
        Path lora = trainLora(report);
        Path baked = bake(report, lora);
        Path mixed = weightedSum(report, tiny, baked);
        blockWeighted(report, tiny, baked);
        extract(report, baked);
        summary(report, mixed);
        report.section("Next").paragraph("Train on your own images with a kohya config (`easel train my.toml`; "
                + "without `pretrained_model_name_or_path` it trains Easel Tiny), merge real SD 1.x/2.x models "
                + "with `easel merge --method ties --param k=0.2 --out mix.safetensors BASE A B` (`easel merge "
                + "--list` shows every method), convert with `easel convert`, and see `easel lora --help`, "
                + "`easel sample --help` and `easel dataset --help`. `easel plugins list` shows the plugins and "
                + "`easel serve` keeps an engine running.");
        Path file = out.resolve("report.md");
        report.write(file);
        log.printf(Locale.ROOT, "quickstart done in %s: %s%n", QuickstartReport.seconds(System.nanoTime() - start),
                file.toAbsolutePath());
        log.flush();
        return file;
    }

    private void engine(QuickstartReport report) {
        step("engine and plugins");
        List<List<String>> rows = new ArrayList<>();
        int active = 0;
        for (PluginRecord r : easel.registry().list()) {
            rows.add(List.of(r.kindLabel(), r.id(), r.version(), r.state().name().toLowerCase(Locale.ROOT),
                    r.origin().bundle() + " " + r.origin().bundleVersion(), r.reason()));
            if (r.state() == PluginState.ACTIVE) {
                active++;
            }
        }
        report.section("Engine and plugins").paragraph(active + " active plugin service(s), loaded from "
                + (easel.options().pluginsDir() == null ? "the class path" : "`" + easel.options().pluginsDir() + "`")
                + " into the embedded OSGi host:")
                .table(List.of("kind", "id", "version", "state", "bundle", "reason"), rows);
        log.printf("  %d active plugin service(s)%n", active);
    }

    private void inspect(QuickstartReport report) throws IOException {
        step("Easel Tiny");
        String output = command("inspect", tiny.toString());
        int tensors;
        try (SafetensorsReader r = SafetensorsReader.open(tiny)) {
            tensors = r.tensors().size();
        }
        report.section("Easel Tiny").code("easel inspect " + display(tiny) + "\n\n" + output)
                .paragraph("The model every command uses when none is given: " + tensors + " tensors, "
                        + Files.size(tiny) / 1_000_000 + " MB in fp16, with SD 1.5's key layout, so kohya LoRA names, "
                        + "SD1 detection and ldm/diffusers conversion work on it as on SD 1.5. Format, family and "
                        + "components are detected from tensor names and shapes alone; `.ckpt`/`.pt` files are read "
                        + "by a restricted unpickler that never runs code.");
    }

    private void baseGrid(QuickstartReport report) throws IOException {
        step("sample a grid and check it");
        String n = Integer.toString(settings.samples());
        String base = command("dataset", "eval", "--model", tiny.toString(), "--count", n, "--grid",
                out.resolve("base-grid.png").toString(), "-q");
        Rates r = rate("base", base);
        String before = command("dataset", "eval", "--model", tiny.toString(), "--prompt", NEW_SHAPE_PROMPT,
                "--count", n, "--grid", out.resolve("cross-before.png").toString(), "-q");
        Rates c = rate("new-shape", before);
        report.section("Sample a grid").code("easel dataset eval --count " + n + " --grid base-grid.png\n" + base
                        + "\neasel dataset eval --prompt \"" + NEW_SHAPE_PROMPT + "\" --count " + n
                        + " --grid cross-before.png\n" + before)
                .paragraph("![" + n + " prompts Easel Tiny was not trained on](base-grid.png)")
                .paragraph(String.format(Locale.ROOT, "%d prompts of the training grammar (\"a red circle on a blue "
                        + "background, striped\"), drawn with a seed the training set did not use, sampled with DPM++ "
                        + "2M Karras (20 steps, CFG 5). A pixel-statistics check (`easel dataset check`: dominant colours, "
                        + "then the best-fitting outline by intersection over union) says whether each sample shows "
                        + "what its prompt asked for: colour right in %d%%, shape right in %d%%, both in %d%%.",
                        r.samples(), r.colour(), r.shape(), r.adherence()))
                .paragraph("![Easel Tiny asked for a cross](cross-before.png)")
                .paragraph(String.format(Locale.ROOT, "Asked for a **%s**, a shape it never saw, it draws crosses in "
                        + "%d%% of the samples.", NEW_SHAPE, c.shape()));
    }

    /** Trains a kohya LoRA on crosses with {@code easel train}; the config names no model, so Easel Tiny is used. */
    private Path trainLora(QuickstartReport report) throws IOException {
        step("train a LoRA on a new shape");
        Path data = out.resolve("data/10_" + NEW_SHAPE);
        // every colour on every background: the LoRA learns the word "cross", and the prompt still picks the colours
        String synth = command("dataset", "synth", "--out", data.toString(), "--count", "48", "--seed", "7",
                "--shapes", NEW_SHAPE);
        Path output = out.resolve("lora");
        String toml = String.join("\n",
                "# no pretrained_model_name_or_path: Easel Tiny is the default",
                "[additional_network_arguments]",
                "network_module = \"networks.lora\"",
                "network_dim = 16",
                "network_alpha = 16",
                "network_args = [\"conv_dim=8\", \"conv_alpha=8\"]",
                "[optimizer_arguments]",
                "optimizer_type = \"AdamW\"",
                "learning_rate = 0.004",
                "lr_scheduler = \"cosine\"",
                "lr_warmup_steps = 10",
                "[dataset_arguments]",
                "train_data_dir = \"" + data.getParent().toAbsolutePath() + "\"",
                "resolution = 64",
                "caption_extension = \".txt\"",
                "cache_latents = true",
                "[training_arguments]",
                "output_dir = \"" + output.toAbsolutePath() + "\"",
                "output_name = \"" + NEW_SHAPE + "\"",
                "save_model_as = \"safetensors\"",
                "train_batch_size = 8",
                "max_train_steps = " + settings.loraSteps(),
                "seed = 1",
                "");
        Path config = out.resolve("lora.toml");
        Files.writeString(config, toml);
        String trained = command("train", config.toString(), "-q");
        Path lora = output.resolve(NEW_SHAPE + ".safetensors");
        List<Double> losses = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(output.resolve(NEW_SHAPE + ".log.jsonl"))) {
            JsonNode loss = json.readTree(line).get("loss");
            if (loss != null && loss.isNumber()) {
                losses.add(loss.asDouble());
            }
        }
        String n = Integer.toString(settings.samples());
        String after = command("dataset", "eval", "--model", tiny.toString(), "--lora", lora + ":1.0", "--prompt",
                NEW_SHAPE_PROMPT, "--count", n, "--grid", out.resolve("cross-after.png").toString(), "-q");
        Rates before = rates.get("new-shape");
        Rates with = rate("with-lora", after);
        String curve = Files.exists(output.resolve(NEW_SHAPE + ".loss.png"))
                ? "![loss curve](lora/" + NEW_SHAPE + ".loss.png)" : "";
        report.section("Train a LoRA on a shape it never saw")
                .code("easel dataset synth --out data/10_cross --count 48 --seed 7 --shapes cross\n" + synth
                        + "\neasel train lora.toml   # a kohya train_network.py config, as is\n\n"
                        + toml.replace(out.toAbsolutePath() + "/", "") + "\n" + trained
                        + "\neasel dataset eval --lora lora/cross.safetensors:1.0 --prompt \"" + NEW_SHAPE_PROMPT
                        + "\" --count " + n + " --grid cross-after.png\n" + after)
                .paragraph(String.format(Locale.ROOT, "%d steps of kohya-style LoRA/LoCon training (rank 16 on the "
                        + "UNet's transformer blocks and the text encoder, rank 8 on its resnet convs, AdamW, cosine) "
                        + "on 48 generated images of crosses in every colour on every background: loss %s. The result is a kohya `.safetensors` with the `ss_*` metadata, "
                        + "loadable in AUTOMATIC1111 and ComfyUI.", settings.loraSteps(), losses.isEmpty()
                        ? "not logged" : String.format(Locale.ROOT, "%.3f → %.3f", losses.get(0),
                        losses.get(losses.size() - 1))))
                .paragraph("![with the LoRA](cross-after.png) " + curve)
                .paragraph(String.format(Locale.ROOT, "**The pixel check finds a cross in %d%% of the samples with "
                        + "the LoRA, against %d%% without it** (colour right in %d%%).", with.shape(),
                        before.shape(), with.colour()));
        log.printf(Locale.ROOT, "  %s: crosses %d%% -> %d%% (%d steps)%n", lora, before.shape(), with.shape(),
                losses.size());
        return lora;
    }

    private Path bake(QuickstartReport report, Path lora) throws IOException {
        step("bake the LoRA");
        Path baked = out.resolve("models/tiny-cross.safetensors");
        String bake = command("lora", "bake", "--base", tiny.toString(), "--lora", lora + ":1.0", "--out",
                baked.toString());
        copyConfig(tiny, baked);
        String n = Integer.toString(settings.samples());
        String eval = command("dataset", "eval", "--model", baked.toString(), "--prompt", NEW_SHAPE_PROMPT,
                "--count", n, "-q");
        Rates r = rate("baked", eval);
        report.section("Bake the LoRA into the model")
                .code("easel lora bake --base " + display(tiny) + " --lora lora/cross.safetensors:1.0 "
                        + "--out models/tiny-cross.safetensors\n" + bake + "\neasel dataset eval --model "
                        + "models/tiny-cross.safetensors --prompt \"" + NEW_SHAPE_PROMPT + "\" --count " + n
                        + "\n" + eval)
                .paragraph(String.format(Locale.ROOT, "The LoRA folded into the weights: crosses in %d%% of the "
                        + "samples, as with the LoRA applied at sampling time (%d%%).", r.shape(),
                        rates.get("with-lora").shape()));
        return baked;
    }

    private void extract(QuickstartReport report, Path baked) throws IOException {
        step("LoRA extract and inspect");
        Path lora = out.resolve("models/extracted.safetensors");
        String extract = command("lora", "extract", "--base", tiny.toString(), "--tuned", baked.toString(), "--rank",
                "8", "--out", lora.toString());
        String inspect = command("lora", "inspect", lora.toString());
        report.section("Extract a LoRA")
                .code("easel lora extract --base " + display(tiny) + " --tuned models/tiny-cross.safetensors "
                        + "--rank 8 --out models/extracted.safetensors\n" + extract
                        + "\neasel lora inspect models/extracted.safetensors\n" + firstLines(inspect, 16))
                .paragraph("The difference between the baked model and Easel Tiny, extracted back as a kohya-format "
                        + "LoRA by truncated SVD per module.");
    }

    private void summary(QuickstartReport report, Path mixed) throws IOException {
        step("sample the merge");
        String n = Integer.toString(settings.samples());
        String eval = command("dataset", "eval", "--model", mixed.toString(), "--prompt", NEW_SHAPE_PROMPT,
                "--count", n, "--grid", out.resolve("cross-merged.png").toString(), "-q");
        Rates merged = rate("merged", eval);
        List<List<String>> rows = new ArrayList<>();
        String[][] labels = {{"base", "Easel Tiny, prompts of the training grammar"},
            {"new-shape", "Easel Tiny, \"" + NEW_SHAPE_PROMPT + "\""},
            {"with-lora", "with the cross LoRA"}, {"baked", "the LoRA baked in"},
            {"merged", "weighted sum (0.5) of Easel Tiny and the baked model"}};
        for (String[] l : labels) {
            Rates r = rates.get(l[0]);
            rows.add(List.of(l[1], Integer.toString(r.samples()), r.colour() + "%", r.shape() + "%",
                    r.adherence() + "%"));
        }
        report.section("What the pixel check saw")
                .paragraph("![the merged model asked for a cross](cross-merged.png)")
                .table(List.of("model", "samples", "colour right", "shape right", "both"), rows)
                .paragraph(String.format(Locale.ROOT, "The half-and-half merge draws crosses in %d%% of the samples.",
                        merged.shape()));
    }

    private String command(String... args) {
        java.io.StringWriter o = new java.io.StringWriter();
        java.io.StringWriter e = new java.io.StringWriter();
        int status = cli.run(new PrintWriter(o), new PrintWriter(e), args);
        if (status != 0) {
            throw new IllegalStateException("easel " + String.join(" ", args) + " failed (exit " + status + "): "
                    + e.toString().strip());
        }
        return o.toString().replace(out.toAbsolutePath() + "/", "").replace(out + "/", "");
    }

    private static String firstLines(String text, int n) {
        String[] lines = text.split("\n");
        if (lines.length <= n) {
            return text;
        }
        return String.join("\n", java.util.Arrays.copyOf(lines, n)) + "\n... (" + (lines.length - n)
                + " more lines)\n";
    }

    /** Merged and baked files need the model's config beside them, as the inputs have. */
    private static void copyConfig(Path model, Path derived) throws IOException {
        Path config = sidecar(model);
        if (Files.exists(config)) {
            Files.copy(config, sidecar(derived), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static Path sidecar(Path model) {
        String name = model.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return model.resolveSibling((dot < 0 ? name : name.substring(0, dot)) + ".json");
    }

    private Rates rate(String key, String output) {
        Rates r = Rates.of(output);
        rates.put(key, r);
        log.printf(Locale.ROOT, "  %s: colour %d%%, shape %d%%, both %d%% of %d%n", key, r.colour(), r.shape(),
                r.adherence(), r.samples());
        return r;
    }

    /** A path as the report shows it: relative to the output folder, or as given. */
    private String display(Path p) {
        return p.startsWith(out) ? out.relativize(p).toString() : p.toString();
    }

    private Path weightedSum(QuickstartReport report, Path a, Path b) throws IOException {
        step("weighted_sum alpha=0.5");
        Path merged = out.resolve("models/weighted-sum.safetensors");
        MergeResult result = MergeExecutor.of(easel)
                .run(MergeRequest.of("weighted_sum", Map.of("alpha", 0.5), List.of(a, b), merged));
        double err = check(a, b, merged, key -> 0.5);
        report.section("Weighted sum").code("easel merge --method weighted_sum --param alpha=0.5 "
                        + "--out models/weighted-sum.safetensors " + display(a) + " " + display(b))
                .paragraph(summary(result) + " Every merged value equals (1 − 0.5)·A + 0.5·B within float rounding "
                        + "(largest difference " + String.format(Locale.ROOT, "%.2e", err) + "); `position_ids` "
                        + "(int64) was copied from A, not averaged.");
        log.printf(Locale.ROOT, "  %s (max |error| %.2e)%n", merged, err);
        copyConfig(a, merged);
        return merged;
    }

    private void blockWeighted(QuickstartReport report, Path a, Path b) throws IOException {
        step("block-weighted weighted_sum");
        Path merged = out.resolve("models/block-weighted.safetensors");
        BlockWeights weights = BlockWeights.parse(BLOCK_WEIGHTS);
        RecipeNode.Merge recipe = new RecipeNode.Merge("weighted_sum", new LinkedHashMap<>(),
                Map.of("alpha", weights), List.of(new RecipeNode.Model(a), new RecipeNode.Model(b)));
        MergeResult result = MergeExecutor.of(easel).run(new MergeRequest(recipe, merged, null, 0L, false, 0,
                MergeRequest.DEFAULT_MEMORY_BUDGET));
        double err = check(a, b, merged, key -> blockAlpha(key, weights));
        report.section("Block-weighted merge").code("easel merge --method weighted_sum --block-weights "
                        + BLOCK_WEIGHTS + " \\\n  --out models/block-weighted.safetensors " + display(a) + " "
                        + display(b))
                .paragraph(summary(result) + " The 26 values are BASE (text encoder, VAE), IN00–IN11, M00 and "
                        + "OUT00–OUT11: the text encoder stays A's, the last output blocks become B's. Checked "
                        + "per key against its block's alpha (largest difference "
                        + String.format(Locale.ROOT, "%.2e", err) + ").");
        log.printf(Locale.ROOT, "  %s (max |error| %.2e)%n", merged, err);
    }

    /** The demo's own mapping of a key to its block's alpha, written independently of the engine's mapper. */
    static double blockAlpha(String key, BlockWeights weights) {
        List<Double> w = weights.values();
        String unet = "model.diffusion_model.";
        if (!key.startsWith(unet)) {
            return w.get(0);
        }
        String rest = key.substring(unet.length());
        if (rest.startsWith("input_blocks.")) {
            return w.get(1 + blockIndex(rest, "input_blocks."));
        }
        if (rest.startsWith("middle_block.")) {
            return w.get(13);
        }
        if (rest.startsWith("output_blocks.")) {
            return w.get(14 + blockIndex(rest, "output_blocks."));
        }
        // time_embed goes with IN00 and the final norm/conv (out.*) with OUT11, as SuperMerger maps them.
        if (rest.startsWith("time_embed.")) {
            return w.get(1);
        }
        return rest.startsWith("out.") ? w.get(25) : w.get(0);
    }

    private static int blockIndex(String rest, String prefix) {
        String n = rest.substring(prefix.length());
        return Integer.parseInt(n.substring(0, n.indexOf('.')));
    }

    /**
     * Checks every float tensor of {@code merged} against {@code (1 - alpha) * a + alpha * b} and every other tensor
     * against {@code a} byte for byte.
     *
     * @return the largest absolute difference over all float values
     */
    private double check(Path a, Path b, Path merged, ToDoubleFunction<String> alpha) throws IOException {
        double worst = 0;
        try (SafetensorsReader ra = SafetensorsReader.open(a);
             SafetensorsReader rb = SafetensorsReader.open(b);
             SafetensorsReader rm = SafetensorsReader.open(merged)) {
            if (rm.tensors().size() != ra.tensors().size()) {
                throw new IllegalStateException(merged + ": " + rm.tensors().size() + " tensors, expected "
                        + ra.tensors().size());
            }
            for (TensorInfo info : ra.tensors()) {
                String key = info.name();
                if (info.dtype() != DType.F16 && info.dtype() != DType.F32) {
                    if (!rm.read(key).equals(ra.read(key))) {
                        throw new IllegalStateException(merged + ": " + key + " was not copied from A");
                    }
                    continue;
                }
                float[] va = floats(ra.read(key), info);
                float[] vb = floats(rb.read(key), info);
                float[] vm = floats(rm.read(key), info);
                double t = alpha.applyAsDouble(key);
                for (int i = 0; i < va.length; i++) {
                    double expected = (1 - t) * va[i] + t * vb[i];
                    double diff = Math.abs(vm[i] - expected);
                    // One rounding of the result to the stored type (11 or 24 significant bits), with slack.
                    double ulp = info.dtype() == DType.F16 ? 0x1p-10 : 0x1p-22;
                    if (diff > Math.abs(expected) * ulp + 1e-7) {
                        throw new IllegalStateException(String.format(Locale.ROOT,
                                "%s: %s[%d] is %s, expected %s (alpha %s)", merged, key, i, vm[i], expected, t));
                    }
                    worst = Math.max(worst, diff);
                }
            }
        }
        return worst;
    }

    /** Decodes an F32 or F16 tensor on the Java side, independently of the engine's own conversions. */
    static float[] floats(ByteBuffer bytes, TensorInfo info) {
        ByteBuffer le = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[Math.toIntExact(info.elementCount())];
        if (info.dtype() == DType.F32) {
            le.asFloatBuffer().get(v);
            return v;
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = halfToFloat(le.getShort());
        }
        return v;
    }

    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float f = mant * 0x1p-24f;
            return sign == 0 ? f : -f;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static String summary(MergeResult r) {
        return String.format(Locale.ROOT, "%d keys merged, %d copied, %d dropped; %.1f kB written in %s.",
                r.merged(), r.copied(), r.dropped(), r.bytesWritten() / 1e3, QuickstartReport.seconds(r.wallNanos()));
    }

    private void step(String what) {
        log.println("quickstart: " + what);
        log.flush();
    }
}
