package dev.easel.core.quickstart;

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

/**
 * Runs the quickstart: shows the engine and its plugins, generates two small SD1-layout models, merges them with
 * the installed merge plugins (a plain weighted sum and a block-weighted one) and checks every merged value
 * against the formula, then writes {@code report.md}. A failed check is an error, not a line in the report.
 */
public final class Quickstart {
    /** Block weights of the demo: text encoder and VAE (BASE) from A, the UNet sliding from A to B. */
    static final String BLOCK_WEIGHTS = "0,0,0,0,0.1,0.2,0.3,0.3,0.4,0.4,0.5,0.5,0.5,0.5,"
            + "0.5,0.5,0.6,0.6,0.7,0.7,0.8,0.8,0.9,0.9,1,1";

    /** Runs an {@code easel} command line in this process, the way a user would type it. */
    @FunctionalInterface
    public interface CommandRunner {
        /** @return the exit status */
        int run(PrintWriter out, PrintWriter err, String... args);
    }

    private final Easel easel;
    private final Path out;
    private final PrintWriter log;
    private final CommandRunner cli;

    public Quickstart(Easel easel, Path out, PrintWriter log, CommandRunner cli) {
        this.easel = easel;
        this.out = out;
        this.log = log;
        this.cli = cli;
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
                + "engine process; re-run it with `./easel quickstart`.");
        engine(report);
        Path a = out.resolve("models/a.safetensors");
        Path b = out.resolve("models/b.safetensors");
        models(report, a, b);
        Path mixed = weightedSum(report, a, b);
        blockWeighted(report, a, b);
        inspect(report, a);
        Path lora = loraRoundTrip(report, a, mixed);
        sample(report, a, lora, out.resolve("models/a-baked.safetensors"));
        train(report, a);
        report.section("Next").paragraph("Merge your own models with `easel merge --method ties --param k=0.2 "
                + "--out mix.safetensors BASE A B`; `easel merge --list` shows every method; `easel convert`, "
                + "`easel lora ...`, `easel sample` and `easel train` take real SD 1.x/2.x files; `easel plugins list` "
                + "shows the plugins and `easel serve` keeps an engine running.");
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

    private void models(QuickstartReport report, Path a, Path b) throws IOException {
        step("two small SD1-architecture models");
        String output = command("init-model", "--config", "tiny", "--seed", "1", "--out", a.toString())
                + command("init-model", "--config", "tiny", "--seed", "2", "--out", b.toString());
        int tensors;
        try (SafetensorsReader r = SafetensorsReader.open(a)) {
            tensors = r.tensors().size();
        }
        report.section("Two small models").code("easel init-model --config tiny --seed 1 --out models/a.safetensors\n"
                        + "easel init-model --config tiny --seed 2 --out models/b.safetensors\n\n" + output)
                .paragraph("Two randomly initialised models with the SD 1.x architecture and exact ldm key layout ("
                        + tensors + " tensors, " + Files.size(a) / 1000 + " kB each; widths are small, the code "
                        + "paths are SD 1.5's). Each has its config beside it (`a.json`), as AUTOMATIC1111 finds "
                        + "configs.");
        log.printf("  %s, %s: %d tensors each%n", a, b, tensors);
    }

    private void inspect(QuickstartReport report, Path a) {
        step("inspect");
        String output = command("inspect", a.toString());
        report.section("Inspect").code("easel inspect models/a.safetensors\n\n" + output)
                .paragraph("Format, architecture family, layout and components are detected from tensor names "
                        + "and shapes alone; `.ckpt`/`.pt` files are read by a restricted unpickler that never runs "
                        + "code, and `easel convert` turns any of them into safetensors or a diffusers folder.");
    }

    private Path loraRoundTrip(QuickstartReport report, Path a, Path mixed) throws IOException {
        step("LoRA extract, inspect and bake");
        Path lora = out.resolve("models/a-to-mix.safetensors");
        Path baked = out.resolve("models/a-baked.safetensors");
        String extract = command("lora", "extract", "--base", a.toString(), "--tuned", mixed.toString(), "--rank",
                "8", "--conv-rank", "4", "--out", lora.toString());
        String inspect = command("lora", "inspect", lora.toString());
        String bake = command("lora", "bake", "--base", a.toString(), "--lora", lora + ":1.0", "--out",
                baked.toString());
        copyConfig(a, baked);
        report.section("LoRA: extract, inspect, bake")
                .code("easel lora extract --base models/a.safetensors --tuned models/weighted-sum.safetensors "
                        + "--rank 8 --conv-rank 4 --out models/a-to-mix.safetensors\n" + extract
                        + "\neasel lora inspect models/a-to-mix.safetensors\n" + firstLines(inspect, 16)
                        + "\neasel lora bake --base models/a.safetensors --lora models/a-to-mix.safetensors:1.0 "
                        + "--out models/a-baked.safetensors\n" + bake)
                .paragraph("The difference between model A and the weighted-sum merge, extracted as a kohya-format "
                        + "LoRA (rank 8, LoCon rank 4 on convolutions, with kohya's `ss_*` metadata) and folded "
                        + "back into A; the same file loads in AUTOMATIC1111 and ComfyUI.");
        log.printf("  %s, %s%n", lora, baked);
        return lora;
    }

    private void sample(QuickstartReport report, Path a, Path lora, Path baked) throws IOException {
        step("sample");
        Path png = out.resolve("a.png");
        Path pngWithLora = out.resolve("a-lora.png");
        Path pngLora = out.resolve("a-baked.png");
        String[] common = {"--prompt", "a (red:1.2) circle on a blue background", "--negative", "blurry",
            "--steps", "8", "--sampler", "dpmpp_2m_karras", "--seed", "42", "--width", "64", "--height", "64", "-q"};
        String first = command(concat(new String[] {"sample", "--model", a.toString(), "--out", png.toString()},
                common));
        String withLora = command(concat(new String[] {"sample", "--model", a.toString(), "--lora", lora + ":1.0",
            "--out", pngWithLora.toString()}, common));
        String second = command(concat(new String[] {"sample", "--model", baked.toString(), "--out",
            pngLora.toString()}, common));
        report.section("Sampling").code("easel sample --model models/a.safetensors --prompt \"a (red:1.2) circle on a "
                        + "blue background\" --negative blurry \\\n  --steps 8 --sampler dpmpp_2m_karras --seed 42 "
                        + "--width 64 --height 64 --out a.png\n(the same with --lora models/a-to-mix.safetensors:1.0 --out "
                        + "a-lora.png, and with --model models/a-baked.safetensors --out a-baked.png)\n\n"
                        + first + withLora + second)
                .paragraph("![model A](a.png) ![model A with the LoRA applied](a-lora.png) "
                        + "![model A with the LoRA baked in](a-baked.png)")
                .paragraph("The tokenizer, CLIP text encoder, UNet, VAE and DPM++ 2M Karras sampler are Easel's own, "
                        + "matching the Stability-AI reference code within float32 rounding. These models are "
                        + "random, so the images are noise-like textures: the point is that the whole pipeline runs, "
                        + "deterministically for a seed, and that the PNGs carry A1111's `parameters` text.");
        log.printf("  %s, %s, %s%n", png, pngWithLora, pngLora);
    }

    /**
     * Trains a small kohya LoRA with {@code easel train} on a generated dataset (red squares on blue, captioned) and
     * samples with it. UNet only: short, and the text encoder keeps the prompts comparable.
     */
    private void train(QuickstartReport report, Path a) throws IOException {
        step("train a LoRA");
        Path data = out.resolve("data/10_redsquare");
        Files.createDirectories(data);
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 4; i++) {
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(64, 64,
                    java.awt.image.BufferedImage.TYPE_INT_RGB);
            java.awt.Graphics2D g = img.createGraphics();
            g.setColor(new java.awt.Color(40, 60, 200));
            g.fillRect(0, 0, 64, 64);
            g.setColor(new java.awt.Color(220, 30, 30));
            int size = 24 + random.nextInt(16);
            g.fillRect(random.nextInt(64 - size), random.nextInt(64 - size), size, size);
            g.dispose();
            javax.imageio.ImageIO.write(img, "png", data.resolve("square" + i + ".png").toFile());
            Files.writeString(data.resolve("square" + i + ".txt"), "a red square on a blue background");
        }
        Path output = out.resolve("lora");
        String toml = String.join("\n",
                "[model_arguments]",
                "pretrained_model_name_or_path = \"" + a.toAbsolutePath() + "\"",
                "[additional_network_arguments]",
                "network_module = \"networks.lora\"",
                "network_dim = 8",
                "network_alpha = 4",
                "network_train_unet_only = true",
                "[optimizer_arguments]",
                "optimizer_type = \"AdamW\"",
                "learning_rate = 0.002",
                "lr_scheduler = \"cosine\"",
                "lr_warmup_steps = 2",
                "[dataset_arguments]",
                "train_data_dir = \"" + data.getParent().toAbsolutePath() + "\"",
                "resolution = 64",
                "caption_extension = \".txt\"",
                "cache_latents = true",
                "[training_arguments]",
                "output_dir = \"" + output.toAbsolutePath() + "\"",
                "output_name = \"redsquare\"",
                "save_model_as = \"safetensors\"",
                "train_batch_size = 2",
                "max_train_steps = 20",
                "seed = 1",
                "");
        Path config = out.resolve("lora.toml");
        Files.writeString(config, toml);
        String trained = command("train", config.toString(), "-q");
        Path lora = output.resolve("redsquare.safetensors");
        List<Double> losses = new ArrayList<>();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(output.resolve("redsquare.log.jsonl"))) {
            com.fasterxml.jackson.databind.JsonNode loss = json.readTree(line).get("loss");
            if (loss != null && loss.isNumber()) {
                losses.add(loss.asDouble());
            }
        }
        Path png = out.resolve("redsquare.png");
        command("sample", "--model", a.toString(), "--lora", lora + ":1.0", "--prompt",
                "a red square on a blue background", "--steps", "8", "--sampler", "dpmpp_2m_karras", "--seed", "42",
                "--width", "64", "--height", "64", "-q", "--out", png.toString());
        String curve = Files.exists(output.resolve("redsquare.loss.png")) ? " ![loss curve](lora/redsquare.loss.png)"
                : "";
        report.section("Train a LoRA").code("easel train lora.toml   # a kohya train_network.py config, as is\n\n"
                        + toml.replace(out.toAbsolutePath() + "/", "") + "\n" + trained)
                .paragraph(String.format(Locale.ROOT, "20 steps of kohya-style LoRA training (rank 8, UNet only, AdamW, "
                        + "cosine) on four generated 64×64 images of a red square: loss %s over %d logged steps. "
                        + "The result is a kohya `.safetensors` with the `ss_*` metadata, sampled here with "
                        + "`easel sample --lora lora/redsquare.safetensors:1.0`:", losses.isEmpty() ? "not logged"
                        : String.format(Locale.ROOT, "%.3f → %.3f", losses.get(0), losses.get(losses.size() - 1)),
                        losses.size()))
                .paragraph("![with the trained LoRA](redsquare.png)" + curve)
                .paragraph("On a random model the images stay textures; Easel Tiny, a small trained model, is what "
                        + "makes a learned concept visible (next on the roadmap).");
        log.printf("  %s (%d steps logged)%n", lora, losses.size());
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

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
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

    private Path weightedSum(QuickstartReport report, Path a, Path b) throws IOException {
        step("weighted_sum alpha=0.5");
        Path merged = out.resolve("models/weighted-sum.safetensors");
        MergeResult result = MergeExecutor.of(easel)
                .run(MergeRequest.of("weighted_sum", Map.of("alpha", 0.5), List.of(a, b), merged));
        double err = check(a, b, merged, key -> 0.5);
        report.section("Weighted sum").code("easel merge --method weighted_sum --param alpha=0.5 "
                        + "--out models/weighted-sum.safetensors models/a.safetensors models/b.safetensors")
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
                        + BLOCK_WEIGHTS + " \\\n  --out models/block-weighted.safetensors models/a.safetensors "
                        + "models/b.safetensors")
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
