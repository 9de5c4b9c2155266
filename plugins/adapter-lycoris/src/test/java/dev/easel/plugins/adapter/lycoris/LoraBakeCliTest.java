package dev.easel.plugins.adapter.lycoris;

import static dev.easel.plugins.adapter.lycoris.TinyModels.T;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.tensor.DType;
import dev.easel.cli.EaselCli;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel lora inspect} and {@code easel lora bake} end to end on tiny SD1-layout files. */
class LoraBakeCliTest {
    static final String Q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
    static final String CONV = "lora_unet_down_blocks_0_resnets_0_conv1";
    static final String FC1 = "lora_te_text_model_encoder_layers_0_mlp_fc1";
    static final String PROJ = "lora_unet_mid_block_attentions_0_proj_out";

    @TempDir
    Path dir;
    Path base;
    Map<String, float[]> weights;
    String stdout;
    String stderr;
    final Random random = new Random(7);

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

    /** A kohya LoRA/LoCon: Linear attention, 3x3 resnet conv with 1x1 up, TE MLP, 1x1 proj conv from 2-d factors. */
    Map<String, T> kohyaLora() {
        Map<String, T> t = new LinkedHashMap<>();
        t.put(Q + ".lora_down.weight", T.of(TinyModels.random(random, 2 * 8, 0.5), 2, 8));
        t.put(Q + ".lora_up.weight", T.of(TinyModels.random(random, 8 * 2, 0.5), 8, 2));
        t.put(Q + ".alpha", T.of(new float[] {1}));
        t.put(CONV + ".lora_down.weight", T.of(TinyModels.random(random, 2 * 8 * 9, 0.5), 2, 8, 3, 3));
        t.put(CONV + ".lora_up.weight", T.of(TinyModels.random(random, 8 * 2, 0.5), 8, 2, 1, 1));
        t.put(CONV + ".alpha", T.of(new float[] {4}));
        t.put(FC1 + ".lora_down.weight", T.of(TinyModels.random(random, 8, 0.5), 1, 8));
        t.put(FC1 + ".lora_up.weight", T.of(TinyModels.random(random, 16, 0.5), 16, 1));
        t.put(PROJ + ".lora_down.weight", T.of(TinyModels.random(random, 16, 0.5), 2, 8));
        t.put(PROJ + ".lora_up.weight", T.of(TinyModels.random(random, 16, 0.5), 8, 2));
        return t;
    }

    static float[] expectedDelta(Map<String, T> lora, String module, int out, int rank, int in, float scale) {
        float[] d = TinyModels.matmul(lora.get(module + ".lora_up.weight").values(),
                lora.get(module + ".lora_down.weight").values(), out, rank, in);
        for (int i = 0; i < d.length; i++) {
            d[i] *= scale;
        }
        return d;
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            float tol = 2e-3f + 1e-3f * Math.abs(expected[i]);
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    static float[] plus(float[] w, float[] d, float m) {
        float[] r = w.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] += m * d[i];
        }
        return r;
    }

    @Test
    void bakesKohyaAndLohaFilesWithStrengths() throws IOException {
        Map<String, T> lora = kohyaLora();
        Path kohya = dir.resolve("kohya.safetensors");
        TinyModels.write(kohya, lora, DType.F16, Map.of("ss_network_module", "networks.lora"));
        Map<String, T> loha = new LinkedHashMap<>();
        String ff = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2";
        float[] w1a = TinyModels.random(random, 8 * 2, 0.5);
        float[] w1b = TinyModels.random(random, 2 * 16, 0.5);
        float[] w2a = TinyModels.random(random, 8 * 2, 0.5);
        float[] w2b = TinyModels.random(random, 2 * 16, 0.5);
        loha.put(ff + ".hada_w1_a", T.of(w1a, 8, 2));
        loha.put(ff + ".hada_w1_b", T.of(w1b, 2, 16));
        loha.put(ff + ".hada_w2_a", T.of(w2a, 8, 2));
        loha.put(ff + ".hada_w2_b", T.of(w2b, 2, 16));
        loha.put(ff + ".alpha", T.of(new float[] {1}));
        // The same Q module again: deltas of several files add up.
        loha.put(Q + ".lora_down.weight", lora.get(Q + ".lora_down.weight"));
        loha.put(Q + ".lora_up.weight", lora.get(Q + ".lora_up.weight"));
        // A LyCORIS full module with a bias delta: the only kind of module that rewrites a bias.
        String out0 = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0";
        float[] diff = TinyModels.random(random, 64, 0.1);
        float[] diffB = TinyModels.random(random, 8, 0.1);
        loha.put(out0 + ".diff", T.of(diff, 8, 8));
        loha.put(out0 + ".diff_b", T.of(diffB, 8));
        Path lycoris = dir.resolve("loha.safetensors");
        TinyModels.write(lycoris, loha, DType.F32, Map.of("ss_network_module", "lycoris.kohya"));

        Path out = dir.resolve("baked.safetensors");
        assertEquals(0, easel("lora", "bake", "--base", base.toString(), "--lora", kohya + ":0.7", "--lora",
                lycoris.toString(), "--out", out.toString()), stderr);
        assertTrue(stdout.contains("7 modules baked into 7 keys"), stdout);

        try (SafetensorsReader r = SafetensorsReader.open(out); SafetensorsReader in = SafetensorsReader.open(base)) {
            assertEquals(in.tensors().size(), r.tensors().size());
            String qKey = TinyModels.UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight";
            float[] dq = expectedDelta(lora, Q, 8, 2, 8, 0.5f);
            float[] q = plus(plus(weights.get(qKey), dq, 0.7f), expectedDelta(lora, Q, 8, 2, 8, 1f), 1f);
            assertClose(q, TinyModels.read(r, qKey), "to_q");
            String convKey = TinyModels.UNET + "input_blocks.1.0.in_layers.2.weight";
            assertClose(plus(weights.get(convKey), expectedDelta(lora, CONV, 8, 2, 72, 2f), 0.7f),
                    TinyModels.read(r, convKey), "conv1");
            String fcKey = TinyModels.TE + "mlp.fc1.weight";
            assertClose(plus(weights.get(fcKey), expectedDelta(lora, FC1, 16, 1, 8, 1f), 0.7f),
                    TinyModels.read(r, fcKey), "fc1");
            String projKey = TinyModels.UNET + "middle_block.1.proj_out.weight";
            assertClose(plus(weights.get(projKey), expectedDelta(lora, PROJ, 8, 2, 8, 1f), 0.7f),
                    TinyModels.read(r, projKey), "proj_out");
            String ffKey = TinyModels.UNET + "input_blocks.1.1.transformer_blocks.0.ff.net.2.weight";
            float[] a = TinyModels.matmul(w1a, w1b, 8, 2, 16);
            float[] b = TinyModels.matmul(w2a, w2b, 8, 2, 16);
            float[] hada = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                hada[i] = a[i] * b[i] * 0.5f;
            }
            assertClose(plus(weights.get(ffKey), hada, 1f), TinyModels.read(r, ffKey), "ff.net.2");
            String outKey = TinyModels.UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_out.0.";
            assertClose(plus(weights.get(outKey + "weight"), diff, 1f), TinyModels.read(r, outKey + "weight"), "diff");
            assertClose(plus(weights.get(outKey + "bias"), diffB, 1f), TinyModels.read(r, outKey + "bias"), "diff_b");
            // Untouched keys are byte-identical, integer keys and the biases of LoRA modules included.
            assertEquals(in.read(TinyModels.UNET + "input_blocks.1.0.in_layers.2.bias"),
                    r.read(TinyModels.UNET + "input_blocks.1.0.in_layers.2.bias"));
            for (String k : new String[] {TinyModels.POSITION_IDS, TinyModels.UNET + "input_blocks.3.0.op.weight",
                "first_stage_model.decoder.conv_out.weight"}) {
                assertEquals(in.read(k), r.read(k), k);
            }
            assertEquals(in.info(qKey).orElseThrow().dtype(), r.info(qKey).orElseThrow().dtype());
        }
    }

    @Test
    void openClipQkvModulesPatchTheirThirdOfInProj() throws IOException {
        String inProj = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight";
        Map<String, T> sd2 = new LinkedHashMap<>();
        float[] w = TinyModels.random(random, 24 * 8, 0.5);
        sd2.put(inProj, T.of(w, 24, 8));
        sd2.put("cond_stage_model.model.transformer.resblocks.0.attn.in_proj_bias", T.of(new float[24], 24));
        Path model = dir.resolve("sd2.safetensors");
        TinyModels.write(model, sd2, DType.F32, Map.of());
        String k = "lora_te_text_model_encoder_layers_0_self_attn_k_proj";
        Map<String, T> lora = new LinkedHashMap<>();
        float[] down = TinyModels.random(random, 8, 0.5);
        float[] up = TinyModels.random(random, 8, 0.5);
        lora.put(k + ".lora_down.weight", T.of(down, 1, 8));
        lora.put(k + ".lora_up.weight", T.of(up, 8, 1));
        Path file = dir.resolve("te.safetensors");
        TinyModels.write(file, lora, DType.F32, Map.of());
        Path out = dir.resolve("sd2-baked.safetensors");
        assertEquals(0, easel("lora", "bake", "--base", model.toString(), "--lora", file.toString(), "--out",
                out.toString()), stderr);
        float[] d = TinyModels.matmul(up, down, 8, 1, 8);
        float[] expected = w.clone();
        for (int i = 0; i < 64; i++) {
            expected[64 + i] += d[i];
        }
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertClose(expected, TinyModels.read(r, inProj), "in_proj_weight");
        }

        // A LyCORIS full module with a bias delta on v: the last third of in_proj's weight and bias.
        String v = "lora_te_text_model_encoder_layers_0_self_attn_v_proj";
        float[] diff = TinyModels.random(random, 64, 0.1);
        float[] diffB = TinyModels.random(random, 8, 0.1);
        Map<String, T> full = new LinkedHashMap<>();
        full.put(v + ".diff", T.of(diff, 8, 8));
        full.put(v + ".diff_b", T.of(diffB, 8));
        Path fullFile = dir.resolve("full.safetensors");
        TinyModels.write(fullFile, full, DType.F32, Map.of("ss_network_module", "lycoris.kohya"));
        Path out2 = dir.resolve("sd2-full.safetensors");
        assertEquals(0, easel("lora", "bake", "--base", model.toString(), "--lora", fullFile + ":0.5", "--out",
                out2.toString()), stderr);
        float[] expectedW = w.clone();
        float[] expectedB = new float[24];
        for (int i = 0; i < 64; i++) {
            expectedW[128 + i] += 0.5f * diff[i];
        }
        for (int i = 0; i < 8; i++) {
            expectedB[16 + i] += 0.5f * diffB[i];
        }
        try (SafetensorsReader r = SafetensorsReader.open(out2)) {
            assertClose(expectedW, TinyModels.read(r, inProj), "in_proj_weight (full)");
            assertClose(expectedB, TinyModels.read(r, "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_bias"),
                    "in_proj_bias (full)");
        }
    }

    @Test
    void inspectReportsTypesRanksAlphasAndTargets() throws IOException {
        Path kohya = dir.resolve("kohya.safetensors");
        TinyModels.write(kohya, kohyaLora(), DType.F16, Map.of("ss_network_module", "networks.lora",
                "ss_network_dim", "2"));
        assertEquals(0, easel("lora", "inspect", kohya.toString(), "--base", base.toString(), "--json"), stderr);
        JsonNode report = new ObjectMapper().readTree(stdout);
        assertEquals(4, report.get("modules").size());
        assertEquals(4, report.get("types").get("lora/kohya").asInt());
        assertEquals(3, report.get("components").get("unet").asInt());
        assertEquals(2, report.get("alphas").get("none").asInt());
        assertEquals(0, report.get("unmatched").size());
        JsonNode conv = null;
        for (JsonNode m : report.get("modules")) {
            if (m.get("name").asText().equals(CONV)) {
                conv = m;
            }
        }
        assertEquals("conv 3x3, 1x1 up", conv.get("variant").asText());
        assertEquals(4.0, conv.get("alpha").asDouble());
        assertEquals(TinyModels.UNET + "input_blocks.1.0.in_layers.2.weight", conv.get("target").asText());
        assertTrue(conv.get("alternatives").toString().contains("lycoris/locon"));

        assertEquals(0, easel("lora", "inspect", kohya.toString()), stderr);
        assertTrue(stdout.contains("lora/kohya (4)"), stdout);
        assertTrue(stdout.contains("ss_network_dim"), stdout);

        // The same keys written by LyCORIS are LyCORIS LoCon; --type overrides the file's word.
        Path lyco = dir.resolve("lyco.safetensors");
        TinyModels.write(lyco, kohyaLora(), DType.F16, Map.of("ss_network_module", "lycoris.kohya"));
        assertEquals(0, easel("lora", "inspect", lyco.toString()), stderr);
        assertTrue(stdout.contains("lycoris/locon (4)"), stdout);
        assertEquals(0, easel("lora", "inspect", lyco.toString(), "--type", "lora/kohya"), stderr);
        assertTrue(stdout.contains("lora/kohya (4)"), stdout);
    }

    @Test
    void unknownModulesFailNamingTheKeyAndLeaveNoOutput() throws IOException {
        Map<String, T> lora = kohyaLora();
        lora.put("lora_unet_mystery.weird_tensor", T.of(new float[] {1, 2}, 2));
        Path file = dir.resolve("odd.safetensors");
        TinyModels.write(file, lora, DType.F16, Map.of());
        Path out = dir.resolve("baked.safetensors");
        assertEquals(1, easel("lora", "bake", "--base", base.toString(), "--lora", file.toString(), "--out",
                out.toString()));
        assertTrue(stderr.contains("lora_unet_mystery") && stderr.contains("odd.safetensors"), stderr);
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file left behind");
        }
        assertEquals(0, easel("lora", "bake", "--base", base.toString(), "--lora", file.toString(), "--out",
                out.toString(), "--skip-unknown"), stderr);
        assertTrue(stderr.contains("warning") && stderr.contains("lora_unet_mystery"), stderr);
        assertTrue(Files.exists(out));
    }

    @Test
    void modulesMatchingNoKeyAndShapeMismatchesFail() throws IOException {
        Map<String, T> lora = new LinkedHashMap<>();
        String absent = "lora_unet_down_blocks_2_attentions_1_proj_in";
        lora.put(absent + ".lora_down.weight", T.of(new float[8], 1, 8));
        lora.put(absent + ".lora_up.weight", T.of(new float[8], 8, 1));
        Path file = dir.resolve("absent.safetensors");
        TinyModels.write(file, lora, DType.F16, Map.of());
        assertEquals(1, easel("lora", "bake", "--base", base.toString(), "--lora", file.toString(), "--out",
                dir.resolve("x.safetensors").toString()));
        assertTrue(stderr.contains(absent) && stderr.contains("matches no key"), stderr);

        Map<String, T> bad = new LinkedHashMap<>();
        bad.put(Q + ".lora_down.weight", T.of(new float[10], 1, 10));
        bad.put(Q + ".lora_up.weight", T.of(new float[8], 8, 1));
        Path badFile = dir.resolve("bad.safetensors");
        TinyModels.write(badFile, bad, DType.F16, Map.of());
        assertEquals(1, easel("lora", "bake", "--base", base.toString(), "--lora", badFile.toString(), "--out",
                dir.resolve("y.safetensors").toString()));
        assertTrue(stderr.contains(Q) && stderr.contains("bad.safetensors"), stderr);
        assertFalse(Files.exists(dir.resolve("y.safetensors")));

        // up and down of different ranks: the factors cannot multiply
        Map<String, T> ranks = new LinkedHashMap<>();
        ranks.put(Q + ".lora_down.weight", T.of(new float[8], 1, 8));
        ranks.put(Q + ".lora_up.weight", T.of(new float[16], 8, 2));
        Path ranksFile = dir.resolve("ranks.safetensors");
        TinyModels.write(ranksFile, ranks, DType.F16, Map.of());
        for (String sub : new String[] {"bake", "convert"}) {
            Path target = dir.resolve("z-" + sub + ".safetensors");
            int rc = sub.equals("bake")
                    ? easel("lora", "bake", "--base", base.toString(), "--lora", ranksFile.toString(), "--out",
                            target.toString())
                    : easel("lora", "convert", ranksFile.toString(), "--to", "peft", "--out", target.toString());
            assertEquals(1, rc, sub + ": " + stdout);
            assertTrue(stderr.contains(Q) && stderr.contains("ranks.safetensors"), sub + ": " + stderr);
            assertEquals(1, stderr.strip().lines().count(), sub + ": " + stderr);
            assertFalse(Files.exists(target));
        }

        Path notLora = dir.resolve("notlora.safetensors");
        TinyModels.write(notLora, Map.of("foo.bar", T.of(new float[] {1}, 1)), DType.F32, Map.of());
        assertEquals(1, easel("lora", "inspect", notLora.toString()));
        assertTrue(stderr.contains("not a LoRA-family adapter") && stderr.contains("notlora.safetensors"), stderr);
    }
}
