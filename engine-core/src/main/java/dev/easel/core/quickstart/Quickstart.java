package dev.easel.core.quickstart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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

    private final Easel easel;
    private final Path out;
    private final PrintWriter log;

    public Quickstart(Easel easel, Path out, PrintWriter log) {
        this.easel = easel;
        this.out = out;
        this.log = log;
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
        weightedSum(report, a, b);
        blockWeighted(report, a, b);
        report.section("Next").paragraph("Merge your own models with `easel merge --method weighted_sum --param "
                + "alpha=0.3 --out mix.safetensors A.safetensors B.safetensors`; `easel merge --list` shows every "
                + "method; `easel plugins list` shows the plugins and `easel serve` keeps an engine running.");
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
        step("two small SD1-layout models");
        int tensors;
        try (NDManager m = easel.runtime().newManager()) {
            tensors = DemoCheckpoint.write(a, 1, m);
            DemoCheckpoint.write(b, 2, m);
        }
        report.section("Two small models").paragraph("`models/a.safetensors` and `models/b.safetensors`: " + tensors
                + " fp16 tensors each in the SD 1.x (ldm) key layout, covering every merge block, with seeds 1 "
                + "and 2 (" + Files.size(a) + " bytes each).");
        log.printf("  %s, %s: %d tensors each%n", a, b, tensors);
    }

    private void weightedSum(QuickstartReport report, Path a, Path b) throws IOException {
        step("weighted_sum alpha=0.5");
        Path merged = out.resolve("models/weighted-sum.safetensors");
        MergeResult result = MergeExecutor.of(easel)
                .run(MergeRequest.of("weighted_sum", Map.of("alpha", 0.5), List.of(a, b), merged));
        double err = check(a, b, merged, key -> 0.5);
        report.section("Weighted sum").code("easel merge --method weighted_sum --param alpha=0.5 "
                        + "--out models/weighted-sum.safetensors models/a.safetensors models/b.safetensors")
                .paragraph(summary(result) + " Every merged value equals (1 − 0.5)·A + 0.5·B within fp16 rounding "
                        + "(largest difference " + String.format(Locale.ROOT, "%.2e", err) + "); `position_ids` "
                        + "(int64) was copied from A, not averaged.");
        log.printf(Locale.ROOT, "  %s (max |error| %.2e)%n", merged, err);
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
             SafetensorsReader rm = SafetensorsReader.open(merged);
             NDManager m = easel.runtime().newManager()) {
            if (rm.tensors().size() != ra.tensors().size()) {
                throw new IllegalStateException(merged + ": " + rm.tensors().size() + " tensors, expected "
                        + ra.tensors().size());
            }
            for (TensorInfo info : ra.tensors()) {
                String key = info.name();
                if (info.dtype() != DType.F16) {
                    if (!rm.read(key).equals(ra.read(key))) {
                        throw new IllegalStateException(merged + ": " + key + " was not copied from A");
                    }
                    continue;
                }
                float[] va = floats(m, ra.read(key), info);
                float[] vb = floats(m, rb.read(key), info);
                float[] vm = floats(m, rm.read(key), info);
                double t = alpha.applyAsDouble(key);
                for (int i = 0; i < va.length; i++) {
                    double expected = (1 - t) * va[i] + t * vb[i];
                    double diff = Math.abs(vm[i] - expected);
                    // fp16 keeps 11 significant bits: one rounding of the result is at most 2^-11 relative.
                    if (diff > Math.abs(expected) * 0x1p-10 + 1e-7) {
                        throw new IllegalStateException(String.format(Locale.ROOT,
                                "%s: %s[%d] is %s, expected %s (alpha %s)", merged, key, i, vm[i], expected, t));
                    }
                    worst = Math.max(worst, diff);
                }
            }
        }
        return worst;
    }

    private static float[] floats(NDManager m, ByteBuffer bytes, TensorInfo info) {
        try (NDArray half = m.create(bytes.order(ByteOrder.LITTLE_ENDIAN), new Shape(info.shape()),
                DataType.FLOAT16); NDArray f = half.toType(DataType.FLOAT32, false)) {
            return f.toFloatArray();
        }
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
