package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.train.io.TensorFiles;
import dev.easel.core.train.loop.Checkpoints;
import dev.easel.core.train.loop.StepReport;
import dev.easel.core.train.loop.TrainingListener;
import dev.easel.core.train.loop.TrainingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void dataset() throws IOException {
        data = TrainFixtures.images(tmp.resolve("data"), 6, 32, 32, "png", 5);
    }

    private static Map<String, String> params(String name) {
        return TrainFixtures.params(data, tmp.resolve(name), tmp.resolve("cache"));
    }

    /** Trains in base mode and returns the eval loss before and after, from the model itself. */
    private static double[] evalBeforeAfter(Map<String, String> p) throws IOException {
        double[] out = new double[2];
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            out[0] = TrainFixtures.evalLoss(new ToyDiffusionModel(m, 1), m);
        }
        Path result = Path.of(p.get("output_dir"), "toy.safetensors");
        TrainFixtures.train(p, TrainingListener.NONE, () -> false);
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            ToyDiffusionModel model = new ToyDiffusionModel(m, 1);
            Map<String, NDArray> trained = TensorFiles.read(result, m);
            List<NDArray> targets = model.hooks().trainBaseWeights(x -> true);
            for (int i = 0; i < targets.size(); i++) {
                targets.get(i).set(trained.get("base." + i).toByteBuffer());
            }
            out[1] = TrainFixtures.evalLoss(model, m);
        }
        return out;
    }

    @Test
    void evalLossFallsWithTrainingAndStaysFlatAtLearningRateZero() throws IOException {
        Map<String, String> p = params("falls");
        p.put("mode", "base");
        double[] trained = evalBeforeAfter(p);
        assertTrue(trained[1] < 0.8 * trained[0], "eval loss " + trained[0] + " -> " + trained[1]);

        Map<String, String> zero = params("flat");
        zero.put("mode", "base");
        zero.put("learning_rate", "0");
        double[] flat = evalBeforeAfter(zero);
        assertEquals(flat[0], flat[1], 0.0, "lr 0 must not move the weights");
    }

    @Test
    void frozenBaseWeightsStayBitIdenticalWhileTheAdapterTrains() throws IOException {
        Map<String, String> p = params("frozen");
        p.put("max_train_steps", "10");
        float[][] before = new float[3][];
        float[][] after = new float[3][];
        List<String> names = List.of("unet.in", "unet.ctx", "unet.time");
        TrainingListener listener = new TrainingListener() {
            @Override
            public void started(long step, long total) {
                ToyDiffusionModel m = ToyModelLoader.LAST.get("toy:1");
                for (int i = 0; i < 3; i++) {
                    before[i] = m.weight(names.get(i)).toFloatArray();
                }
            }

            @Override
            public void step(StepReport r) {
                if (r.step() == r.totalSteps()) {
                    ToyDiffusionModel m = ToyModelLoader.LAST.get("toy:1");
                    for (int i = 0; i < 3; i++) {
                        after[i] = m.weight(names.get(i)).toFloatArray();
                    }
                }
            }
        };
        TrainFixtures.train(p, listener, () -> false);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(before[i], after[i], names.get(i) + " changed");
        }
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            Map<String, NDArray> out = TensorFiles.read(tmp.resolve("frozen/toy.safetensors"), m);
            float max = out.get("lora_up.weight").abs().max().getFloat();
            assertTrue(max > 0, "the adapter did not train");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"AdamW", "Prodigy"})
    void killedAndResumedRunEndsBitIdenticalToAnUninterruptedOne(String optimizer) throws IOException {
        Map<String, String> straight = params("straight-" + optimizer);
        straight.put("optimizer_type", optimizer);
        straight.put("max_train_steps", "20");
        straight.put("gradient_accumulation_steps", "2");
        straight.put("lr_scheduler", "cosine");
        straight.put("lr_warmup_steps", "3");
        straight.put("noise_offset", "0.1");
        straight.put("flip_aug", "true");
        straight.put("shuffle_caption", "true");
        straight.put("save_every_n_steps", "5");
        TrainFixtures.train(straight, TrainingListener.NONE, () -> false);

        Map<String, String> killed = new java.util.LinkedHashMap<>(straight);
        killed.put("output_dir", tmp.resolve("killed-" + optimizer).toString());
        killed.put("keep_last_n_checkpoints", "2");
        AtomicLong steps = new AtomicLong();
        TrainingListener counter = new TrainingListener() {
            @Override
            public void step(StepReport r) {
                steps.set(r.step());
            }
        };
        assertThrows(IllegalStateException.class, () -> TrainFixtures.train(killed, counter, () -> {
            if (steps.get() >= 13) {
                throw new IllegalStateException("killed");
            }
            return false;
        }));
        Path stateRoot = tmp.resolve("killed-" + optimizer + "/state");
        List<Path> states = Checkpoints.list(stateRoot);
        assertEquals(List.of("step-00000005", "step-00000010"), states.stream().map(s -> s.getFileName().toString())
                .toList(), "keep-last-2 of the checkpoints at 5 and 10");
        assertFalse(Files.exists(tmp.resolve("killed-" + optimizer + "/toy.safetensors")));

        killed.put("resume", "latest");
        List<String> warnings = new ArrayList<>();
        TrainingListener warned = new TrainingListener() {
            @Override
            public void warning(String line) {
                warnings.add(line);
            }
        };
        TrainingResult resumed = TrainFixtures.train(killed, warned, () -> false);
        assertEquals(List.of(), warnings.stream().filter(w -> w.contains("resuming")).toList(),
                "same config, no change reported");
        assertEquals(20, resumed.steps());
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            Map<String, NDArray> a = TensorFiles.read(tmp.resolve("straight-" + optimizer + "/toy.safetensors"), m);
            Map<String, NDArray> b = TensorFiles.read(tmp.resolve("killed-" + optimizer + "/toy.safetensors"), m);
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) {
                assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
            }
        }
        List<String> log = Files.readAllLines(tmp.resolve("killed-" + optimizer + "/toy.log.jsonl"));
        assertEquals(20, log.size(), "the resumed log reads as one run");
        assertEquals(Files.readAllLines(tmp.resolve("straight-" + optimizer + "/toy.log.jsonl")).stream().map(TrainerTest::lossOf)
                .toList(), log.stream().map(TrainerTest::lossOf).toList());
        assertTrue(Files.size(tmp.resolve("killed-" + optimizer + "/toy.loss.png")) > 1000);
        List<String> stepResults = new ArrayList<>();
        try (var s = Files.list(tmp.resolve("killed-" + optimizer))) {
            s.map(f -> f.getFileName().toString()).filter(n -> n.contains("-step")).sorted().forEach(stepResults::add);
        }
        assertEquals(List.of("toy-step00000010.safetensors", "toy-step00000015.safetensors"), stepResults);
    }

    @Test
    void epochsSetTheStepBudgetAndAMissingBackendIsNamed() throws IOException {
        Map<String, String> p = params("epochs");
        p.put("max_train_epochs", "2");
        p.put("gradient_accumulation_steps", "2");
        // 6 images, batch 2: 3 batches per epoch, 2 per step -> 2 steps per epoch.
        assertEquals(4, TrainFixtures.train(p, TrainingListener.NONE, () -> false).steps());

        var registry = TrainFixtures.registry();
        var job = TrainFixtures.loader(registry).load(null, "toy/test", params("nobackend"));
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            IOException e = assertThrows(IOException.class, () -> new dev.easel.core.train.loop.Trainer(job,
                    registry, new dev.easel.core.train.model.DiffusionModels(List.of()), m).run(
                    TrainingListener.NONE, () -> false));
            assertEquals("toy:1: no diffusion model backend is installed in this engine, so it cannot be trained on"
                    + " (the SD networks register one)", e.getMessage());
        }
    }

    @Test
    void epochCheckpointsUseKohyaNamesAndChangedResumesAreReported() throws IOException {
        Map<String, String> p = params("epoch-names");
        p.put("max_train_epochs", "3");
        p.put("save_every_n_epochs", "1");
        p.put("train_batch_size", "3");
        TrainFixtures.train(p, TrainingListener.NONE, () -> false);
        assertTrue(Files.exists(tmp.resolve("epoch-names/toy-000001.safetensors")));
        assertTrue(Files.exists(tmp.resolve("epoch-names/toy-000002.safetensors")));
        assertFalse(Files.exists(tmp.resolve("epoch-names/toy-000003.safetensors")), "the last is the result");

        p.put("resume", tmp.resolve("epoch-names/state/step-00000002").toString());
        p.put("max_train_epochs", "4");
        List<String> warnings = new ArrayList<>();
        TrainFixtures.train(p, new TrainingListener() {
            @Override
            public void warning(String line) {
                warnings.add(line);
            }
        }, () -> false);
        assertTrue(warnings.stream().anyMatch(w -> w.contains("'max_train_epochs' changed (3 -> 4)")),
                warnings.toString());
    }

    @Test
    void liveArraysStayFlatOverSteps() throws IOException {
        Map<String, String> p = params("flat-memory");
        p.put("max_train_steps", "60");
        p.put("gradient_accumulation_steps", "2");
        long[] live = new long[2];
        try (NDManager parent = TrainFixtures.RUNTIME.newManager()) {
            TrainingListener probe = new TrainingListener() {
                @Override
                public void step(StepReport r) {
                    if (r.step() == 5) {
                        live[0] = parent.getManagedArrays().size();
                    } else if (r.step() == 60) {
                        live[1] = parent.getManagedArrays().size();
                    }
                }
            };
            var registry = TrainFixtures.registry();
            var job = TrainFixtures.loader(registry).load(null, "toy/test", p);
            new dev.easel.core.train.loop.Trainer(job, registry, new dev.easel.core.train.model.DiffusionModels(
                    List.of(new ToyModelLoader())), parent).run(probe, () -> false);
        }
        assertTrue(live[0] > 0, "the probe sees the job's arrays");
        assertEquals(live[0], live[1], "no arrays leak per step");
    }

    private static String lossOf(String line) {
        int at = line.indexOf("\"loss\":");
        return line.substring(at, line.indexOf(',', at));
    }
}
