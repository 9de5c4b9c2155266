package dev.easel.core.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.plugin.PluginOrigin;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MergeExecutorTest {
    static ComputeRuntime runtime;
    static PluginRegistry registry;

    @TempDir
    Path dir;
    InMemoryModelIo io;
    MergeExecutor executor;

    @BeforeAll
    static void startRuntime() {
        runtime = new ComputeRuntime().start();
        registry = new PluginRegistry();
        registry.register(new LerpTestMerge(), new PluginOrigin("test", "1", -1, "test"));
    }

    @AfterAll
    static void stopRuntime() {
        runtime.close();
    }

    @BeforeEach
    void setUp() {
        io = new InMemoryModelIo();
        executor = new MergeExecutor(registry, runtime, io);
    }

    private MergeRequest lerp(double alpha, Path... models) {
        return MergeRequest.of("test_lerp", Map.of("alpha", alpha), List.of(models), dir.resolve("out.safetensors"));
    }

    @Test
    void mergesFloatKeysCopiesIntegersAndAppliesKeyPolicies() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        io.model(a).f32("w", 1, 2, -3, 0.5f).i64("position_ids", 0, 1, 2).f32("only_a", 7)
                .f32("model_ema.w", 9);
        io.model(b).f32("w", 3, -2, 1, 0.5f).i64("position_ids", 5, 5, 5).f32("only_b", 8);
        MergeResult r = executor.run(lerp(0.25, a, b));
        InMemoryModelIo.Written out = io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath());
        assertArrayEquals(new float[] {1.5f, 1.0f, -2.0f, 0.5f}, out.floats("w"), 1e-6f);
        ByteBuffer ids = out.tensors().get("position_ids").duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(List.of(0L, 1L, 2L), List.of(ids.getLong(), ids.getLong(), ids.getLong()));
        assertEquals(DType.I64, out.info("position_ids").dtype());
        assertArrayEquals(new float[] {7}, out.floats("only_a"));
        assertArrayEquals(new float[] {8}, out.floats("only_b"));
        assertFalse(out.tensors().containsKey("model_ema.w"));
        assertEquals(1, r.merged());
        assertEquals(3, r.copied());
        assertEquals(1, r.dropped());
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("only_a") || w.contains("only_b")),
                r.warnings().toString());
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("EMA")));
        String recipe = out.plan().metadata().get(MergePlanner.RECIPE_METADATA_KEY);
        var json = new ObjectMapper().readTree(recipe);
        assertEquals("test_lerp", json.path("merges").get(0).path("method").asText());
        assertEquals("a.safetensors", json.path("models").path("a").asText());
        assertTrue(io.models.values().stream().allMatch(m -> m.closed));
    }

    @Test
    void keepsEmaWhenAsked() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        io.model(a).f32("w", 1).f32("model_ema.w", 2);
        io.model(b).f32("w", 3).f32("model_ema.w", 4);
        executor.run(lerp(0.5, a, b).withKeepEma(true));
        InMemoryModelIo.Written out = io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath());
        assertArrayEquals(new float[] {3}, out.floats("model_ema.w"));
    }

    @Test
    void roundsToNearestEvenWhenWritingHalf() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        // T3: 1.0 and the next fp16 after 1.0; the exact mean 1.00048828125 is a tie that rounds to even (1.0).
        io.model(a).f16("w", (short) 0x3C00, (short) 0x3C01);
        io.model(b).f16("w", (short) 0x3C01, (short) 0x3C02);
        executor.run(lerp(0.5, a, b));
        InMemoryModelIo.Written out = io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath());
        assertEquals(DType.F16, out.info("w").dtype());
        ByteBuffer w = out.tensors().get("w").duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((short) 0x3C00, w.getShort());
        assertEquals((short) 0x3C02, w.getShort()); // tie between 0x3C01 and 0x3C02 goes to the even 0x3C02
    }

    @Test
    void writesTheRequestedDtype() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        io.model(a).f32("w", 1, 2).i64("ids", 1);
        io.model(b).f32("w", 3, 4).i64("ids", 2);
        executor.run(lerp(0.5, a, b).withOutputDType(DType.BF16));
        InMemoryModelIo.Written out = io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath());
        assertEquals(DType.BF16, out.info("w").dtype());
        assertEquals(DType.I64, out.info("ids").dtype());
        ByteBuffer w = out.tensors().get("w").duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(2.0f, Float.intBitsToFloat((w.getShort() & 0xffff) << 16));
        assertEquals(3.0f, Float.intBitsToFloat((w.getShort() & 0xffff) << 16));
    }

    @Test
    void slicesLargeElementwiseKeysWithTheSameResult() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        int n = MergeExecutor.SLICE_ELEMENTS * 2 + 3;
        float[] va = new float[n];
        float[] vb = new float[n];
        for (int i = 0; i < n; i++) {
            va[i] = i % 1000;
            vb[i] = -(i % 777);
        }
        io.model(a).f32("big", new long[] {n}, va);
        io.model(b).f32("big", new long[] {n}, vb);
        executor.run(lerp(0.25, a, b));
        float[] out = io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath()).floats("big");
        for (int i = 0; i < n; i += 9973) {
            assertEquals(0.75f * va[i] + 0.25f * vb[i], out[i], 1e-3f, "element " + i);
        }
        assertEquals(0.75f * va[n - 1] + 0.25f * vb[n - 1], out[n - 1], 1e-3f);
    }

    @Test
    void mergesTheFirstFourChannelsOfAnInpaintingConvIn() throws Exception {
        Path a = dir.resolve("inpaint.safetensors");
        Path b = dir.resolve("b.safetensors");
        String key = "model.diffusion_model.input_blocks.0.0.weight";
        float[] va = new float[9];
        for (int i = 0; i < 9; i++) {
            va[i] = i;
        }
        io.model(a).f32(key, new long[] {1, 9, 1, 1}, va);
        io.model(b).f32(key, new long[] {1, 4, 1, 1}, 10, 10, 10, 10);
        executor.run(lerp(0.5, a, b));
        float[] out = io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath()).floats(key);
        assertArrayEquals(new float[] {5, 5.5f, 6, 6.5f, 4, 5, 6, 7, 8}, out, 1e-6f);

        MergeException e = assertThrows(MergeException.class, () -> executor.run(lerp(0.5, b, a)));
        assertTrue(e.getMessage().contains("must be the first input"), e.getMessage());
    }

    @Test
    void refusesShapeMismatchBeforeAnyWork() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        io.model(a).f32("w", 1, 2);
        io.model(b).f32("w", 1, 2, 3);
        MergeException e = assertThrows(MergeException.class, () -> executor.run(lerp(0.5, a, b)));
        assertTrue(e.getMessage().contains("shape mismatch for key 'w'") && e.getMessage().contains("b.safetensors"),
                e.getMessage());
        assertEquals(0, io.creates);
        assertEquals(0, io.models.values().stream().mapToInt(m -> m.reads).sum());
    }

    @Test
    void refusesMismatchedArchitectures() throws Exception {
        Path a = dir.resolve("sd1.safetensors");
        Path b = dir.resolve("sdxl.safetensors");
        io.model(a).f32("cond_stage_model.transformer.text_model.final_layer_norm.weight", 1)
                .f32("model.diffusion_model.out.0.weight", 1);
        io.model(b).f32("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", 1)
                .f32("model.diffusion_model.out.0.weight", 1);
        MergeException e = assertThrows(MergeException.class, () -> executor.run(lerp(0.5, a, b)));
        assertTrue(e.getMessage().contains("different architectures") && e.getMessage().contains("SDXL"),
                e.getMessage());
        assertEquals(0, io.creates);
    }

    @Test
    void refusesBadParametersAndInputCounts() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        io.model(a).f32("w", 1);
        io.model(b).f32("w", 2);
        MergeException e = assertThrows(MergeException.class, () -> executor.run(lerp(1.5, a, b)));
        assertTrue(e.getMessage().contains("alpha") && e.getMessage().contains("range"), e.getMessage());
        e = assertThrows(MergeException.class, () -> executor.run(lerp(0.5, a)));
        assertTrue(e.getMessage().contains("takes 2 models"), e.getMessage());
        e = assertThrows(MergeException.class, () -> executor.run(MergeRequest.of("nope", Map.of(), List.of(a, b),
                dir.resolve("out.safetensors"))));
        assertTrue(e.getMessage().contains("unknown merge method 'nope'"), e.getMessage());
        e = assertThrows(MergeException.class, () -> executor.run(MergeRequest.of("test_lerp", Map.of(),
                List.of(a, b), a)));
        assertTrue(e.getMessage().contains("is also an input"), e.getMessage());
        assertEquals(0, io.creates);
    }

    @Test
    void aFailingKeyLeavesNoOutput() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        io.model(a).f32("w", 1).f32("boom", 1);
        io.model(b).f32("w", 2).f32("boom", 2);
        assertThrows(MergeException.class, () -> executor.run(lerp(0.5, a, b)));
        assertTrue(io.outputs.isEmpty());
        assertTrue(io.models.values().stream().allMatch(m -> m.closed));
    }

    @Test
    void appliesBlockWeightsPerKey() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        String te = "cond_stage_model.transformer.text_model.final_layer_norm.weight";
        String in4 = "model.diffusion_model.input_blocks.4.1.proj_in.weight";
        String out = "model.diffusion_model.out.2.bias";
        for (Path p : List.of(a, b)) {
            float v = p == a ? 0 : 1;
            io.model(p).f32(te, v).f32(in4, v).f32(out, v);
        }
        double[] w = new double[26];
        w[0] = 0.1;  // BASE
        w[5] = 0.4;  // IN04
        w[25] = 0.9; // OUT11
        List<Double> weights = java.util.Arrays.stream(w).boxed().toList();
        RecipeNode.Merge m = new RecipeNode.Merge("test_lerp", Map.of("alpha", 0.5),
                Map.of("alpha", BlockWeights.ofList(weights)),
                List.of(new RecipeNode.Model(a), new RecipeNode.Model(b)));
        MergeRequest req = new MergeRequest(m, dir.resolve("out.safetensors"), null, 0, false, 0, 0);
        executor.run(req);
        InMemoryModelIo.Written o = io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath());
        assertEquals(0.1f, o.floats(te)[0], 1e-6f);
        assertEquals(0.4f, o.floats(in4)[0], 1e-6f);
        assertEquals(0.9f, o.floats(out)[0], 1e-6f);

        RecipeNode.Merge tooFew = new RecipeNode.Merge("test_lerp", Map.of(),
                Map.of("alpha", BlockWeights.ofList(weights.subList(0, 25))), m.inputs());
        MergeException e = assertThrows(MergeException.class, () -> executor.run(
                new MergeRequest(tooFew, dir.resolve("o2.safetensors"), null, 0, false, 0, 0)));
        assertTrue(e.getMessage().contains("have 25 values") && e.getMessage().contains("26"), e.getMessage());
        RecipeNode.Merge unknown = new RecipeNode.Merge("test_lerp", Map.of(),
                Map.of("alpha", BlockWeights.ofNamed(Map.of("IN12", 0.5))), m.inputs());
        e = assertThrows(MergeException.class, () -> executor.run(
                new MergeRequest(unknown, dir.resolve("o2.safetensors"), null, 0, false, 0, 0)));
        assertTrue(e.getMessage().contains("unknown block 'IN12'"), e.getMessage());
        RecipeNode.Merge range = new RecipeNode.Merge("test_lerp", Map.of(),
                Map.of("alpha", BlockWeights.ofNamed(Map.of("IN03", 1.5))), m.inputs());
        e = assertThrows(MergeException.class, () -> executor.run(
                new MergeRequest(range, dir.resolve("o2.safetensors"), null, 0, false, 0, 0)));
        assertTrue(e.getMessage().contains("IN03") && e.getMessage().contains("range"), e.getMessage());
        RecipeNode.Merge notPerBlock = new RecipeNode.Merge("test_lerp", Map.of(),
                Map.of("beta", BlockWeights.ofNamed(Map.of("IN03", 0.5))), m.inputs());
        e = assertThrows(MergeException.class, () -> executor.run(
                new MergeRequest(notPerBlock, dir.resolve("o2.safetensors"), null, 0, false, 0, 0)));
        assertTrue(e.getMessage().contains("cannot be given per block"), e.getMessage());
        assertEquals(1, io.creates);
    }

    @Test
    void evaluatesARecipeGraphKeyByKey() throws Exception {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        Path c = dir.resolve("c.safetensors");
        io.model(a).f32("w", 0, 4);
        io.model(b).f32("w", 4, 0);
        io.model(c).f32("w", 8, 8);
        String json = "{\"format\":\"easel-merge-recipe\",\"version\":1,"
                + "\"models\":{\"a\":\"a.safetensors\",\"b\":\"b.safetensors\",\"c\":\"c.safetensors\"},"
                + "\"merges\":[{\"name\":\"ab\",\"method\":\"test_lerp\",\"inputs\":[\"a\",\"b\"],"
                + "\"params\":{\"alpha\":0.5}},"
                + "{\"name\":\"abc\",\"method\":\"test_lerp\",\"inputs\":[\"ab\",\"c\"],\"params\":{\"alpha\":0.25}}],"
                + "\"dtype\":\"fp32\",\"seed\":7}";
        Path recipe = dir.resolve("r.json");
        java.nio.file.Files.writeString(recipe, json);
        RecipeFile rf = RecipeJson.read(recipe);
        assertEquals(7L, rf.seed());
        assertEquals(DType.F32, rf.dtype());
        executor.run(new MergeRequest(rf.root(), dir.resolve("out.safetensors"), rf.dtype(), rf.seed(), false, 1, 0));
        // ab = [2, 2]; abc = 0.75 * [2, 2] + 0.25 * [8, 8] = [3.5, 3.5]
        assertArrayEquals(new float[] {3.5f, 3.5f},
                io.outputs.get(dir.resolve("out.safetensors").toAbsolutePath()).floats("w"), 1e-6f);
        assertEquals(1, io.models.get(a.toAbsolutePath().normalize()).reads);

        java.nio.file.Files.writeString(recipe, json.replace("[\"ab\",\"c\"]", "[\"ab\",\"zz\"]"));
        MergeException e = assertThrows(MergeException.class, () -> RecipeJson.read(recipe));
        assertTrue(e.getMessage().contains("'zz'") && e.getMessage().contains("r.json"), e.getMessage());
    }

    @Test
    void memoryBudgetEstimateCoversSlicedKeys() {
        TensorInfo big = new TensorInfo("big", DType.F16, 49408, 768);
        KeyTask t = new KeyTask(big, "BASE", new KeyPlan.Read(0, DType.F32, big.shape()));
        assertTrue(MergeExecutor.estimate(t) > big.byteSize());
    }
}
