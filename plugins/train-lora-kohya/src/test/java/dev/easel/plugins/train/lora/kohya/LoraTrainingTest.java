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

    /** Every tensor of two LoRA files is equal (same names, same values). */
    private static void assertSameTensors(Path expected, Path actual) throws IOException {
        try (TensorSource a = SafetensorsReader.open(expected); TensorSource b = SafetensorsReader.open(actual)) {
            assertEquals(names(a), names(b));
            for (TensorInfo t : a.tensors()) {
                assertEquals(a.read(t.name()), b.read(t.name()), t.name());
            }
        }
    }

    private static TreeSet<String> names(TensorSource s) {
        TreeSet<String> n = new TreeSet<>();
        s.tensors().forEach(t -> n.add(t.name()));
        return n;
    }

    @Test
    void networkWeightsStartsFromAnExistingLora() throws IOException {
        Map<String, String> p = LoraJobs.params(model, data, dir.resolve("out-first"));
        p.put("max_train_steps", "3");
        p.put("network_args", "conv_dim=2 conv_alpha=1");
        LoraJobs.train(p, new LoraJobs.Probe());
        Path first = dir.resolve("out-first/tiny_lora.safetensors");

        // learning rate 0: the job ends exactly where the file started it
        p.put("output_dir", dir.resolve("out-continued").toString());
        p.put("network_weights", first.toString());
        p.put("learning_rate", "0");
        p.put("max_train_steps", "1");
        LoraJobs.train(p, new LoraJobs.Probe());
        assertSameTensors(first, dir.resolve("out-continued/tiny_lora.safetensors"));

        // other ranks than the file's: an error naming the module and both shapes
        p.put("output_dir", dir.resolve("out-mismatch").toString());
        p.put("network_dim", "8");
        IOException e = assertThrows(IOException.class, () -> LoraJobs.train(p, new LoraJobs.Probe()));
        assertTrue(e.getMessage().contains("network_weights") && e.getMessage().contains("lora_down.weight")
                && e.getMessage().contains("dim_from_weights"), e.getMessage());
    }

    @Test
    void dimFromWeightsTakesTheFilesModulesRanksAndAlphas() throws IOException {
        Map<String, String> p = LoraJobs.params(model, data, dir.resolve("out-dims"));
        p.put("max_train_steps", "2");
        p.put("network_dim", "3");
        p.put("network_alpha", "2");
        p.put("network_args", "conv_dim=2 conv_alpha=1");
        LoraJobs.train(p, new LoraJobs.Probe());
        Path first = dir.resolve("out-dims/tiny_lora.safetensors");

        Map<String, String> q = LoraJobs.params(model, data, dir.resolve("out-from-dims"));
        q.put("network_weights", first.toString());
        q.put("dim_from_weights", "true");
        q.put("network_dim", "8");
        q.put("learning_rate", "0");
        q.put("max_train_steps", "1");
        LoraJobs.train(q, new LoraJobs.Probe());
        Path second = dir.resolve("out-from-dims/tiny_lora.safetensors");
        assertSameTensors(first, second);
        try (TensorSource s = SafetensorsReader.open(second)) {
            assertEquals("3", s.metadata().get("ss_network_dim"));
            assertEquals("2.0", s.metadata().get("ss_network_alpha"));
            assertTrue(s.metadata().get("ss_network_args").contains("\"conv_dim\": \"2\""),
                    s.metadata().get("ss_network_args"));
        }

        // UNet only: the file's text-encoder modules are not trained, so not written (as kohya)
        q.put("output_dir", dir.resolve("out-from-dims-unet").toString());
        q.put("network_train_unet_only", "true");
        LoraJobs.train(q, new LoraJobs.Probe());
        try (TensorSource a = SafetensorsReader.open(first);
             TensorSource b = SafetensorsReader.open(dir.resolve("out-from-dims-unet/tiny_lora.safetensors"))) {
            TreeSet<String> unet = new TreeSet<>(names(a));
            unet.removeIf(n -> !n.startsWith("lora_unet_"));
            assertEquals(unet, names(b));
        }

        q.put("network_weights", "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoraJobs.train(q, new LoraJobs.Probe()));
        assertTrue(e.getMessage().contains("dim_from_weights"), e.getMessage());
    }

    @Test
    void dropoutsActInTrainingOnly() throws IOException {
        // module_dropout = 1 skips every module in every training step: nothing reaches lora_up, which stays zero
        Path out = dir.resolve("out-dropped");
        Map<String, String> p = LoraJobs.params(model, data, out);
        p.put("max_train_steps", "2");
        p.put("network_args", "module_dropout=1");
        LoraJobs.Probe probe = new LoraJobs.Probe();
        LoraJobs.train(p, probe);
        try (TensorSource src = SafetensorsReader.open(out.resolve("tiny_lora.safetensors"))) {
            for (TensorInfo t : src.tensors()) {
                if (t.name().endsWith("lora_up.weight")) {
                    java.nio.ByteBuffer b = src.read(t.name()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    while (b.hasRemaining()) {
                        assertEquals(0f, b.getFloat(), t.name());
                    }
                }
            }
        }
        // outside training (the final evaluation) the wrapped model is the bare one: no module is dropped, and the
        // zero lora_up adds nothing
        assertArrayEquals(probe.basePrediction, probe.finalPrediction);
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
