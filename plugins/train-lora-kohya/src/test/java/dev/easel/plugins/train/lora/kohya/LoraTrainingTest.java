package dev.easel.plugins.train.lora.kohya;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.train.loop.StepReport;
import dev.easel.core.train.loop.TrainingListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA training on the tiny SD model: loss falls, lr 0 is flat and exact, frozen weights stay, the file is kohya's. */
class LoraTrainingTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path data;

    @BeforeAll
    static void fixtures() throws IOException {
        model = LoraJobs.tinyModel(dir);
        data = LoraJobs.images(dir.resolve("img"), 4);
    }

    @Test
    void lossOnFixedEvaluationSetFallsAndFrozenWeightsStay() throws IOException {
        LoraJobs.Probe probe = new LoraJobs.Probe();
        Map<String, String> p = LoraJobs.params(model, data, dir.resolve("out-train"));
        p.put("max_train_steps", "25");
        p.put("learning_rate", "0.003");
        p.put("network_args", "conv_dim=2 conv_alpha=1");
        LoraJobs.train(p, probe);
        System.out.printf("eval loss %.6f -> %.6f%n", probe.baseLoss, probe.finalLoss);
        assertTrue(probe.finalLoss < probe.baseLoss * 0.98,
                "eval loss should fall: " + probe.baseLoss + " -> " + probe.finalLoss);
        assertEquals(probe.frozenAtLoad.keySet(), probe.frozenAtEnd.keySet());
        for (String k : probe.frozenAtLoad.keySet()) {
            assertArrayEquals(probe.frozenAtLoad.get(k), probe.frozenAtEnd.get(k), k + " changed");
        }
    }

    @Test
    void zeroLearningRateIsFlatAndTheInitialAdapterChangesNothing() throws IOException {
        LoraJobs.Probe probe = new LoraJobs.Probe();
        Map<String, String> p = LoraJobs.params(model, data, dir.resolve("out-lr0"));
        p.put("max_train_steps", "3");
        p.put("learning_rate", "0");
        p.put("network_args", "conv_dim=2");
        LoraJobs.train(p, probe);
        // every module is wrapped (up = 0) while the final prediction is taken: bit-identical to the bare model
        assertArrayEquals(probe.basePrediction, probe.finalPrediction);
        assertEquals(probe.baseLoss, probe.finalLoss);
    }

    @Test
    void writesKohyaModulesAndMetadata() throws IOException {
        Path out = dir.resolve("out-file");
        Map<String, String> p = LoraJobs.params(model, data, out);
        p.put("max_train_steps", "2");
        p.put("network_args", "conv_dim=2 conv_alpha=1");
        p.put("unet_lr", "0.002");
        p.put("save_precision", "fp16");
        LoraJobs.train(p, new LoraJobs.Probe());
        try (TensorSource src = SafetensorsReader.open(out.resolve("tiny_lora.safetensors"))) {
            TreeSet<String> names = new TreeSet<>();
            for (TensorInfo t : src.tensors()) {
                names.add(t.name());
                assertEquals("F16", t.dtype().name(), t.name());
            }
            assertTrue(names.contains("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight"),
                    names.toString());
            assertTrue(names.contains("lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight"), names.toString());
            assertTrue(names.contains("lora_unet_down_blocks_0_resnets_0_conv1.alpha"), names.toString());
            assertTrue(names.contains("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight"), names.toString());
            assertTrue(names.contains("lora_te_text_model_encoder_layers_1_self_attn_out_proj.lora_up.weight"),
                    names.toString());
            assertFalse(names.stream().anyMatch(n -> n.contains("conv_in") || n.contains("time_emb")
                    && !n.contains("resnets") || n.contains("conv_out")), names.toString());
            Map<String, String> md = src.metadata();
            assertEquals("networks.lora", md.get("ss_network_module"));
            assertEquals("4", md.get("ss_network_dim"));
            assertEquals("4.0", md.get("ss_network_alpha"));
            assertEquals("0.002", md.get("ss_unet_lr"));
            assertEquals("0.01", md.get("ss_text_encoder_lr"));
            assertEquals("sd_v1", md.get("ss_base_model_version"));
            assertTrue(md.get("ss_network_args").contains("\"conv_dim\": \"2\""), md.get("ss_network_args"));
            assertEquals(64, md.get("sshs_model_hash").length());
        }
    }

    @Test
    void killedAndResumedWithEveryDropoutEndsWithTheWeightsOfAnUninterruptedRun() throws IOException {
        Map<String, String> p = LoraJobs.params(model, data, dir.resolve("out-whole"));
        p.put("max_train_steps", "6");
        // text encoder, UNet and LoCon together, with all three dropouts: per-step randomness must replay on resume
        p.put("network_args", "conv_dim=2 conv_alpha=1 rank_dropout=0.25 module_dropout=0.25");
        p.put("network_dropout", "0.1");
        p.put("save_state", "true");
        p.put("save_every_n_steps", "3");
        List<String> warnings = new ArrayList<>();
        TrainingListener warned = new TrainingListener() {
            @Override
            public void warning(String line) {
                warnings.add(line);
            }
        };
        LoraJobs.train(p, new LoraJobs.Probe(), warned, () -> false);

        p.put("output_dir", dir.resolve("out-killed").toString());
        AtomicLong steps = new AtomicLong();
        TrainingListener counter = new TrainingListener() {
            @Override
            public void step(StepReport r) {
                steps.set(r.step());
            }

            @Override
            public void warning(String line) {
                warnings.add(line);
            }
        };
        assertThrows(IllegalStateException.class, () -> LoraJobs.train(p, new LoraJobs.Probe(), counter, () -> {
            if (steps.get() >= 4) {
                throw new IllegalStateException("killed");
            }
            return false;
        }));
        p.put("resume", "latest");
        LoraJobs.train(p, new LoraJobs.Probe(), warned, () -> false);
        // no step was skipped for a non-finite loss or gradient
        assertEquals(List.of(), warnings);
        try (TensorSource a = SafetensorsReader.open(dir.resolve("out-whole/tiny_lora.safetensors"));
             TensorSource b = SafetensorsReader.open(dir.resolve("out-killed/tiny_lora.safetensors"))) {
            assertEquals(a.tensors().size(), b.tensors().size());
            assertTrue(a.tensors().stream().anyMatch(t -> t.name().startsWith("lora_te_")));
            for (TensorInfo t : a.tensors()) {
                assertEquals(a.read(t.name()), b.read(t.name()), t.name());
            }
            assertEquals(a.metadata().get("sshs_model_hash"), b.metadata().get("sshs_model_hash"));
        }
    }

    @Test
    void unetOnlyAdaptsNoTextEncoderModule() throws IOException {
        Path out = dir.resolve("out-unet");
        Map<String, String> p = LoraJobs.params(model, data, out);
        p.put("max_train_steps", "1");
        p.put("network_train_unet_only", "true");
        LoraJobs.train(p, new LoraJobs.Probe());
        try (TensorSource src = SafetensorsReader.open(out.resolve("tiny_lora.safetensors"))) {
            assertTrue(src.tensors().stream().allMatch(t -> t.name().startsWith("lora_unet_")));
            assertFalse(src.tensors().stream().anyMatch(t -> t.name().contains("resnets")), "no LoCon without conv_dim");
        }
    }
}
