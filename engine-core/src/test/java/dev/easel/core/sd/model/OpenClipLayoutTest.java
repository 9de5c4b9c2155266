package dev.easel.core.sd.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.clip.ClipTextEncoder;
import dev.easel.core.sd.nn.NetworkState;
import dev.easel.core.sd.nn.ParamKind;
import dev.easel.core.sd.nn.WeightSource;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SD2's OpenCLIP layout: the tiny SD1 text weights rewritten under OpenCLIP's names (q, k, v fused into
 * {@code in_proj_weight} rows q|k|v, {@code positional_embedding} without {@code .weight}) give the same outputs as
 * the HF layout, so the split and the key mapping are right; SD2's full-size plan has the real shapes.
 */
class OpenClipLayoutTest {
    private static final Map<String, String> RENAME = Map.of(
            "ln_1", "layer_norm1", "ln_2", "layer_norm2", "attn.out_proj", "self_attn.out_proj",
            "mlp.c_fc", "mlp.fc1", "mlp.c_proj", "mlp.fc2");

    @Test
    void openClipLayoutComputesTheSameTower() throws Exception {
        TextEncoderConfig hf = ModelConfigs.read(ParityFixtures.config()).text();
        TextEncoderConfig oc = new TextEncoderConfig(true, hf.vocabSize(), hf.maxPositions(), hf.width(), hf.layers(),
                hf.heads(), hf.intermediate(), hf.activation(), hf.layerNormEps(), 0, 1, 0);
        try (NDManager m = ParityFixtures.runtime().newManager();
             SafetensorsReader w = SafetensorsReader.open(ParityFixtures.model());
             SafetensorsReader v = SafetensorsReader.open(ParityFixtures.resource("tiny-sd1-vectors.safetensors"))) {
            String hfp = "cond_stage_model.transformer.text_model.";
            WeightSource openClip = (key, shape, kind) -> {
                String k = key.substring("cond_stage_model.model.".length());
                String src;
                if (k.equals("token_embedding.weight")) {
                    src = hfp + "embeddings.token_embedding.weight";
                } else if (k.equals("positional_embedding")) {
                    src = hfp + "embeddings.position_embedding.weight";
                } else if (k.startsWith("ln_final.")) {
                    src = hfp + "final_layer_norm." + k.substring("ln_final.".length());
                } else {
                    String[] parts = k.split("\\.", 4); // transformer, resblocks, i, rest
                    String layer = hfp + "encoder.layers." + parts[2] + ".";
                    String rest = parts[3];
                    if (rest.startsWith("attn.in_proj_")) {
                        String suffix = rest.endsWith("weight") ? "weight" : "bias";
                        NDArray q = ParityFixtures.read(w, layer + "self_attn.q_proj." + suffix, m);
                        NDArray kk = ParityFixtures.read(w, layer + "self_attn.k_proj." + suffix, m);
                        NDArray vv = ParityFixtures.read(w, layer + "self_attn.v_proj." + suffix, m);
                        NDArray fused = q.concat(kk, 0).concat(vv, 0);
                        assertArrayEquals(shape, fused.getShape().getShape(), key);
                        return fused;
                    }
                    String module = rest.substring(0, rest.lastIndexOf('.'));
                    src = layer + RENAME.get(module) + rest.substring(rest.lastIndexOf('.'));
                }
                NDArray a = ParityFixtures.read(w, src, m);
                assertArrayEquals(shape, a.getShape().getShape(), key);
                return a;
            };
            ClipTextEncoder encoder = new ClipTextEncoder(oc, openClip, new NetworkState());
            NDArray ids = ParityFixtures.read(v, "text.ids", m);
            assertTrue(ParityFixtures.maxAbsDiff(ParityFixtures.read(v, "text.last", m), encoder.encode(ids, 1)) < 1e-4);
            assertTrue(ParityFixtures.maxAbsDiff(ParityFixtures.read(v, "text.skip2", m), encoder.encode(ids, 2))
                    < 1e-4);
        }
    }

    @Test
    void sd2PlanHasTheRealShapes() {
        Map<String, PlannedWeights.Planned> plan = SdModel.plan(SdModelConfig.sd2("v")).keys();
        String t = "cond_stage_model.model.";
        assertEquals("[3072, 1024]", Arrays.toString(plan.get(t + "transformer.resblocks.23.attn.in_proj_weight")
                .shape()));
        assertEquals("[4096, 1024]", Arrays.toString(plan.get(t + "transformer.resblocks.0.mlp.c_fc.weight").shape()));
        assertEquals("[1024, 1024]", Arrays.toString(plan.get(t + "text_projection").shape()));
        assertEquals("[77, 1024]", Arrays.toString(plan.get(t + "positional_embedding").shape()));
        String u = "model.diffusion_model.";
        assertEquals("[320, 320]", Arrays.toString(plan.get(u + "input_blocks.1.1.proj_in.weight").shape()));
        assertEquals("[640, 1024]", Arrays.toString(plan.get(u + "input_blocks.4.1.transformer_blocks.0.attn2.to_k"
                + ".weight").shape()));
        assertEquals(ParamKind.WEIGHT, plan.get(u + "middle_block.1.proj_out.weight").kind());
        assertEquals(686, plan.keySet().stream().filter(k -> k.startsWith(u)).count());
        // 24 resblocks x 12 keys + token/positional embeddings + ln_final (2) + text_projection
        assertEquals(24 * 12 + 2 + 2 + 1, plan.keySet().stream().filter(k -> k.startsWith(t)).count());
        assertEquals(5, SdModelConfig.sd2("v").unet().headsAt(320));
    }

    @TempDir
    java.nio.file.Path dir;

    @Test
    void openClipTowerReadsADiffusersTextEncoder() throws Exception {
        TextEncoderConfig hf = ModelConfigs.read(ParityFixtures.config()).text();
        TextEncoderConfig oc = new TextEncoderConfig(true, hf.vocabSize(), hf.maxPositions(), hf.width(), hf.layers(),
                hf.heads(), hf.intermediate(), hf.activation(), hf.layerNormEps(), 0, 1, 0);
        java.nio.file.Path file = dir.resolve("text_encoder.safetensors");
        String prefix = "cond_stage_model.transformer.";
        try (NDManager m = ParityFixtures.runtime().newManager();
             SafetensorsReader w = SafetensorsReader.open(ParityFixtures.model());
             SafetensorsReader v = SafetensorsReader.open(ParityFixtures.resource("tiny-sd1-vectors.safetensors"))) {
            java.util.List<dev.easel.api.tensor.TensorInfo> infos = w.tensors().stream()
                    .filter(t -> t.name().startsWith(prefix))
                    .map(t -> t.withName("text_encoder." + t.name().substring(prefix.length()))).toList();
            try (var out = dev.easel.core.format.safetensors.SafetensorsWriter.create(file,
                    new dev.easel.api.tensor.WritePlan(infos, Map.of()))) {
                for (var t : infos) {
                    out.write(t.name(), w.read(prefix + t.name().substring("text_encoder.".length())));
                }
                out.commit();
            }
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                CheckpointWeights weights = new CheckpointWeights(r, m, false);
                ClipTextEncoder encoder = new ClipTextEncoder(oc, weights, new NetworkState());
                weights.checkNoExtraKeys(SdModel.NETWORK_PREFIXES, SdModel::ignorable);
                NDArray ids = ParityFixtures.read(v, "text.ids", m);
                assertTrue(ParityFixtures.maxAbsDiff(ParityFixtures.read(v, "text.last", m), encoder.encode(ids, 1))
                        < 1e-4);
                assertTrue(encoder.layers().stream().anyMatch(l -> l.ldmName().equals(
                        "cond_stage_model.model.transformer.resblocks.0.attn.in_proj.q")));
            }
        }
    }
}
