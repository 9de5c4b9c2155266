package dev.easel.plugins.adapter.lycoris;

import static dev.easel.plugins.adapter.lycoris.TinyModels.T;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.cli.EaselCli;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code easel lora resize|merge|convert|extract} end to end: every written file is re-read, inspected, and baked
 * into the same tiny SD1-layout checkpoint, and the baked weights are compared with those of the inputs.
 */
class LoraToolsCliTest {
    static final String Q = LoraBakeCliTest.Q;
    static final String CONV = LoraBakeCliTest.CONV;
    static final String FC1 = LoraBakeCliTest.FC1;
    static final String FF = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_0_proj";

    @TempDir
    Path dir;
    Path base;
    Map<String, float[]> weights;
    String stdout;
    String stderr;

    @BeforeEach
    void fixtures() throws IOException {
        base = dir.resolve("sd1.safetensors");
        weights = TinyModels.writeSd1(base, 1);
    }

    int easel(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        stdout = out.toString();
        stderr = err.toString();
        return rc;
    }

    /** A rank-4 kohya LoRA over a Linear, a 3x3 conv, a TE MLP and a wide FF, with alphas 2 and (conv) none. */
    Path lora(String name, long seed, int rank) throws IOException {
        Random random = new Random(seed);
        Map<String, T> t = new LinkedHashMap<>();
        t.put(Q + ".lora_down.weight", T.of(TinyModels.random(random, rank * 8, 0.5), rank, 8));
        t.put(Q + ".lora_up.weight", T.of(TinyModels.random(random, 8 * rank, 0.5), 8, rank));
        t.put(Q + ".alpha", T.of(new float[] {2}));
        t.put(CONV + ".lora_down.weight", T.of(TinyModels.random(random, rank * 72, 0.5), rank, 8, 3, 3));
        t.put(CONV + ".lora_up.weight", T.of(TinyModels.random(random, 8 * rank, 0.5), 8, rank, 1, 1));
        t.put(FC1 + ".lora_down.weight", T.of(TinyModels.random(random, rank * 8, 0.5), rank, 8));
        t.put(FC1 + ".lora_up.weight", T.of(TinyModels.random(random, 16 * rank, 0.5), 16, rank));
        t.put(FC1 + ".alpha", T.of(new float[] {1}));
        t.put(FF + ".lora_down.weight", T.of(TinyModels.random(random, rank * 8, 0.5), rank, 8));
        t.put(FF + ".lora_up.weight", T.of(TinyModels.random(random, 32 * rank, 0.5), 32, rank));
        t.put(FF + ".alpha", T.of(new float[] {rank}));
        Path p = dir.resolve(name);
        TinyModels.write(p, t, DType.F32, Map.of("ss_network_module", "networks.lora", "ss_network_dim",
                Integer.toString(rank), "ss_network_alpha", "2.0", "ss_base_model_version", "sd_v1"));
        return p;
    }

    /** The checkpoint with the given adapters baked in, in fp32, as key to values. */
    Map<String, float[]> bake(String... loras) throws IOException {
        Path out = Files.createTempFile(dir, "baked", ".safetensors");
        Files.delete(out);
        String[] args = new String[6 + 2 * loras.length];
        int i = 0;
        args[i++] = "lora";
        args[i++] = "bake";
        args[i++] = "--base";
        args[i++] = base.toString();
        for (String l : loras) {
            args[i++] = "--lora";
            args[i++] = l;
        }
        args[i++] = "--dtype=fp32";
        args[i++] = "--out=" + out;
        assertEquals(0, easel(args), stderr);
        Map<String, float[]> values = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            for (TensorInfo info : r.tensors()) {
                if (info.dtype() == DType.F32) {
                    values.put(info.name(), TinyModels.read(r, info.name()));
                }
            }
        }
        return values;
    }

    static void assertSameModel(Map<String, float[]> expected, Map<String, float[]> actual, float tol) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) {
            float[] e = expected.get(k);
            float[] a = actual.get(k);
            for (int i = 0; i < e.length; i++) {
                if (Math.abs(e[i] - a[i]) > tol * (1 + Math.abs(e[i]))) {
                    throw new AssertionError(k + "[" + i + "]: expected " + e[i] + " but was " + a[i]);
                }
            }
        }
    }

    static String dataSectionSha256(Path file) throws Exception {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long header = len.flip().getLong();
            ByteBuffer data = ByteBuffer.allocate((int) (ch.size() - 8 - header));
            ch.read(data, 8 + header);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data.flip().array()));
        }
    }

    @Test
    void resizeKeepsTheDeltaAtFullRankAndMatchesTheFullSvdBelowIt() throws Exception {
        Path in = lora("r4.safetensors", 1, 4);
        Path same = dir.resolve("same.safetensors");
        assertEquals(0, easel("lora", "resize", in.toString(), "--rank", "4", "--out", same.toString()), stderr);
        assertSameModel(bake(in.toString()), bake(same.toString()), 1e-4f);

        Path small = dir.resolve("r2.safetensors");
        Path smallFull = dir.resolve("r2full.safetensors");
        assertEquals(0, easel("lora", "resize", in.toString(), "--rank", "2", "--out", small.toString()), stderr);
        assertTrue(stdout.contains("ranks {2=4}"), stdout);
        assertEquals(0, easel("lora", "resize", in.toString(), "--rank", "2", "--full-svd", "--out",
                smallFull.toString()), stderr);
        assertSameModel(bake(smallFull.toString()), bake(small.toString()), 1e-4f);

        try (SafetensorsReader r = SafetensorsReader.open(small)) {
            Map<String, String> md = r.metadata();
            assertEquals("2", md.get("ss_network_dim"));
            assertEquals("networks.lora", md.get("ss_network_module"));
            assertEquals("sd_v1", md.get("ss_base_model_version"));
            assertEquals("stable-diffusion-v1/lora", md.get("modelspec.architecture"));
            assertTrue(md.get("ss_training_comment").startsWith("resized by easel to rank 2 from 4"));
            assertEquals(dataSectionSha256(small), md.get("sshs_model_hash"));
            // alpha keeps the scale: Q had alpha 2 at rank 4 (scale 0.5), so 1.0 at rank 2; FF had scale 1.
            assertEquals(1.0f, TinyModels.read(r, Q + ".alpha")[0], 1e-6f);
            assertEquals(2.0f, TinyModels.read(r, FF + ".alpha")[0], 1e-6f);
            assertEquals(0, r.info(Q + ".alpha").orElseThrow().rank());
            assertEquals(DType.F32, r.info(Q + ".alpha").orElseThrow().dtype());
            assertEquals(4, r.info(CONV + ".lora_down.weight").orElseThrow().rank());
        }

        Path dynamic = dir.resolve("dyn.safetensors");
        assertEquals(0, easel("lora", "resize", in.toString(), "--rank", "4", "--dynamic", "sv_fro:0.999999", "--out",
                dynamic.toString()), stderr);
        assertSameModel(bake(in.toString()), bake(dynamic.toString()), 1e-3f);
        // the other two criteria, kept loose enough to keep every direction: nothing changes
        for (String mode : new String[] {"sv_ratio:1000000", "sv_cumulative:0.9999999"}) {
            Path d = dir.resolve(mode.replace(':', '-') + ".safetensors");
            assertEquals(0, easel("lora", "resize", in.toString(), "--rank", "4", "--dynamic", mode, "--out",
                    d.toString()), stderr);
            assertSameModel(bake(in.toString()), bake(d.toString()), 1e-3f);
        }
        // and a strict one drops directions: with sv_ratio 1 no singular value exceeds the largest, and kohya's
        // resize_lora.py clamps that count to at least 1 before adding its 1, so rank 2 of 4
        Path one = dir.resolve("ratio1.safetensors");
        assertEquals(0, easel("lora", "resize", in.toString(), "--rank", "4", "--dynamic", "sv_ratio:1", "--out",
                one.toString()), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(one)) {
            assertEquals(2, r.info(Q + ".lora_down.weight").orElseThrow().dim(0));
        }
        assertEquals(2, easel("lora", "resize", in.toString(), "--rank", "4", "--dynamic", "sv_max:2", "--out",
                dynamic.toString()));
    }

    @Test
    void mergeIsExactWhereRanksAddAndReducesOtherwise() throws IOException {
        Path a = lora("a.safetensors", 1, 2);
        Path b = lora("b.safetensors", 2, 2);
        Path ab = dir.resolve("ab.safetensors");
        assertEquals(0, easel("lora", "merge", "--lora", a + ":0.7", "--lora", b + ":0.3", "--rank", "4", "--out",
                ab.toString()), stderr);
        assertTrue(stdout.contains("4 modules exact, 0 reduced"), stdout);
        assertSameModel(bake(a + ":0.7", b + ":0.3"), bake(ab.toString()), 1e-4f);
        try (SafetensorsReader r = SafetensorsReader.open(ab)) {
            assertEquals("4", r.metadata().get("ss_network_dim"));
            assertEquals("a, b", r.metadata().get("modelspec.merged_from"));
        }

        Path reduced = dir.resolve("ab2.safetensors");
        assertEquals(0, easel("lora", "merge", "--lora", a + ":0.7", "--lora", b + ":0.3", "--rank", "2",
                "--clamp-quantile", "1", "--out", reduced.toString()), stderr);
        assertTrue(stdout.contains("0 modules exact, 4 reduced"), stdout);
        // Rank 2 of the rank-4 sum, as the resize of the exact merge computes it (alpha = rank: scale 1).
        Path viaResize = dir.resolve("ab2r.safetensors");
        assertEquals(0, easel("lora", "resize", ab.toString(), "--rank", "2", "--out", viaResize.toString()), stderr);
        assertSameModel(bake(viaResize.toString()), bake(reduced.toString()), 1e-4f);
    }

    @Test
    void convertRoundTripsThroughPeft() throws IOException {
        Path in = lora("k.safetensors", 3, 2);
        Path peft = dir.resolve("pytorch_lora_weights.safetensors");
        assertEquals(0, easel("lora", "convert", in.toString(), "--to", "peft", "--out", peft.toString()), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(peft)) {
            assertTrue(r.info("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight")
                    .isPresent(), r.tensors().toString());
            assertTrue(r.info("text_encoder.text_model.encoder.layers.0.mlp.fc1.lora_B.weight").isPresent());
            assertTrue(r.tensors().stream().noneMatch(t -> t.name().endsWith("alpha")));
        }
        assertEquals(0, easel("lora", "inspect", peft.toString()), stderr);
        assertTrue(stdout.contains("lora/peft (4)"), stdout);
        assertSameModel(bake(in.toString()), bake(peft.toString()), 1e-4f);

        Path back = dir.resolve("back.safetensors");
        assertEquals(0, easel("lora", "convert", peft.toString(), "--to", "kohya", "--out", back.toString()), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(back); SafetensorsReader o = SafetensorsReader.open(in)) {
            assertEquals(names(o), names(r));
            assertEquals("sd_v1", r.metadata().get("ss_base_model_version"));
        }
        assertSameModel(bake(in.toString()), bake(back.toString()), 1e-4f);
    }

    @Test
    void convertRefusesModulesWithoutALoraForm() throws IOException {
        Map<String, T> t = new LinkedHashMap<>();
        t.put(Q + ".hada_w1_a", T.of(new float[16], 8, 2));
        t.put(Q + ".hada_w1_b", T.of(new float[16], 2, 8));
        t.put(Q + ".hada_w2_a", T.of(new float[16], 8, 2));
        t.put(Q + ".hada_w2_b", T.of(new float[16], 2, 8));
        Path loha = dir.resolve("loha.safetensors");
        TinyModels.write(loha, t, DType.F16, Map.of());
        Path out = dir.resolve("x.safetensors");
        assertEquals(1, easel("lora", "convert", loha.toString(), "--to", "peft", "--out", out.toString()));
        assertTrue(stderr.contains(Q) && stderr.contains("lycoris/loha"), stderr);
        assertFalse(Files.exists(out));
    }

    @Test
    void extractRecoversALowRankFineTune() throws IOException {
        // tuned = base + rank-2 deltas on the attention and the resnet conv, stored in fp32 so the difference is exact.
        Random random = new Random(5);
        Map<String, T> tuned = new LinkedHashMap<>();
        String q = TinyModels.UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight";
        String conv = TinyModels.UNET + "input_blocks.1.0.in_layers.2.weight";
        Map<String, long[]> shapes = TinyModels.sd1Shapes();
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            float[] v = e.getValue().clone();
            int cols = v.length / (int) shapes.get(e.getKey())[0];
            if (e.getKey().equals(q) || e.getKey().equals(conv)) {
                float[] d = TinyModels.matmul(TinyModels.random(random, 16, 0.3), TinyModels.random(random, 2 * cols,
                        0.3), 8, 2, cols);
                for (int i = 0; i < v.length; i++) {
                    v[i] += d[i];
                }
            }
            tuned.put(e.getKey(), T.of(v, shapes.get(e.getKey())));
        }
        Path tunedFile = dir.resolve("tuned.safetensors");
        TinyModels.write(tunedFile, tuned, DType.F32, Map.of(), true);
        Path out = dir.resolve("extracted.safetensors");
        assertEquals(0, easel("lora", "extract", "--base", base.toString(), "--tuned", tunedFile.toString(),
                "--rank", "2", "--conv-rank", "2", "--clamp-quantile", "1", "--out", out.toString()), stderr);
        assertTrue(stderr.contains("text_encoder left out"), stderr);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            Set<String> n = names(r);
            assertTrue(n.contains(Q) && n.contains(CONV) && !n.contains(FC1), n.toString());
            assertTrue(n.contains("lora_unet_mid_block_attentions_0_proj_out"), n.toString());
            assertTrue(n.contains("lora_unet_down_blocks_0_downsamplers_0_conv"), n.toString());
            assertTrue(n.contains("lora_unet_up_blocks_0_upsamplers_0_conv"), n.toString());
            assertEquals("{\"conv_alpha\": \"2.0\", \"conv_dim\": \"2\"}", r.metadata().get("ss_network_args"));
        }
        Map<String, float[]> baked = bake(out.toString());
        float[] expectedQ = tuned.get(q).values();
        float[] expectedConv = tuned.get(conv).values();
        assertSameModel(Map.of(q, expectedQ, conv, expectedConv), Map.of(q, baked.get(q), conv, baked.get(conv)),
                2e-3f);
    }

    static Set<String> names(SafetensorsReader r) {
        Set<String> s = new java.util.TreeSet<>();
        for (TensorInfo t : r.tensors()) {
            s.add(t.name().substring(0, t.name().indexOf('.')));
        }
        return s;
    }
}
