package dev.easel.plugins.adapter.kohya;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.TrainableAdapter;
import dev.easel.api.model.BaseModule;
import dev.easel.api.model.Component;
import dev.easel.api.model.ModuleKind;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.runtime.ComputeRuntime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** kohya's LoRA forward: identity at init, equal to the merged weight after training, differentiable. */
class KohyaLoraTrainableTest {
    static ComputeRuntime runtime;
    final KohyaLoraAdapter type = new KohyaLoraAdapter();

    @BeforeAll
    static void start() {
        runtime = new ComputeRuntime().start();
    }

    @AfterAll
    static void stop() {
        runtime.close();
    }

    record Module(ModuleKind kind, long[] weightShape, int padding) implements NetworkModule {
        public Component component() {
            return Component.UNET;
        }

        public String ldmName() {
            return "model.diffusion_model.x";
        }

        public String diffusersName() {
            return "x";
        }

        public boolean hasBias() {
            return true;
        }
    }

    record Base(NetworkModule info, NDArray weight, NDArray bias) implements BaseModule {
        public NDArray forward(NDArray x) {
            return forward(x, weight, bias);
        }

        public NDArray forward(NDArray x, NDArray w, NDArray b) {
            if (info.kind() == ModuleKind.CONV2D) {
                int p = info.padding();
                return Conv2d.conv2d(x, w, b, new Shape(1, 1), new Shape(p, p), new Shape(1, 1)).singletonOrThrow();
            }
            return Linear.linear(x, w, b).singletonOrThrow();
        }
    }

    private void check(NetworkModule target, Shape xShape) {
        try (NDManager m = runtime.newManager()) {
            NDArray w = m.randomNormal(new Shape(target.weightShape()));
            NDArray b = m.randomNormal(new Shape(target.weightShape()[0]));
            Base base = new Base(target, w, b);
            TrainableAdapter lora = type.createTrainable(target,
                    type.parameters().validate(Map.of("network_dim", 2, "network_alpha", 1)), m, 42);
            NDArray x = m.randomNormal(xShape);
            assertArrayEquals(base.forward(x).toFloatArray(), lora.forward(x, base, false).toFloatArray(), 1e-5f);

            NDArray up = lora.trainableTensors().get("lora_up.weight");
            up.set(m.randomNormal(up.getShape()).toFloatArray());
            Map<String, NDArray> exported = lora.export();
            Map<String, TensorInfo> infos = new LinkedHashMap<>();
            exported.forEach((k, v) -> infos.put(k, new TensorInfo(k, DType.F32, v.getShape().getShape())));
            AdapterModule module = type.recognize("lora_unet_x", infos).orElseThrow();
            NDArray merged = w.add(type.delta(module, exported, w, m));
            assertArrayEquals(base.forward(x, merged, b).toFloatArray(), lora.forward(x, base, false).toFloatArray(),
                    1e-4f);

            for (NDArray p : lora.trainableTensors().values()) {
                p.setRequiresGradient(true);
            }
            try (GradientCollector gc = runtime.engine().newGradientCollector()) {
                gc.backward(lora.forward(x, base, true).sum());
            }
            NDArray g = lora.trainableTensors().get("lora_down.weight").getGradient();
            assertEquals(lora.trainableTensors().get("lora_down.weight").getShape(), g.getShape());
            assertEquals(1f, g.abs().sum().toFloatArray()[0] > 0 ? 1f : 0f);
        }
    }

    @Test
    void exportedAdapterIsWrittenAsKohyaWritesIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        NetworkModule target = new Module(ModuleKind.LINEAR, new long[] {6, 5}, 0);
        java.nio.file.Path file = dir.resolve("trained.safetensors");
        dev.easel.core.merge.ModelIo io = new dev.easel.core.merge.ModelIo() {
            public dev.easel.api.tensor.TensorSource open(java.nio.file.Path p) throws java.io.IOException {
                return dev.easel.core.format.safetensors.SafetensorsReader.open(p);
            }

            public dev.easel.api.tensor.TensorSink create(java.nio.file.Path p, dev.easel.api.tensor.WritePlan plan)
                    throws java.io.IOException {
                return dev.easel.core.format.safetensors.SafetensorsWriter.create(p, plan);
            }
        };
        try (NDManager m = runtime.newManager()) {
            TrainableAdapter lora = type.createTrainable(target,
                    type.parameters().validate(Map.of("network_dim", 2, "network_alpha", 1)), m, 1);
            String name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
            dev.easel.core.adapter.LoraWriter.writeKohya(io, file, Map.of(name, lora.export()), DType.F16,
                    Map.of("ss_network_module", "networks.lora", "ss_network_dim", "2", "ss_network_alpha", "1.0"), m);
            try (var r = dev.easel.core.format.safetensors.SafetensorsReader.open(file)) {
                assertEquals(DType.F16, r.info(name + ".alpha").orElseThrow().dtype());
                assertEquals(0, r.info(name + ".alpha").orElseThrow().rank());
                assertEquals(2, r.info(name + ".lora_down.weight").orElseThrow().dim(0));
                assertEquals(64, r.metadata().get("sshs_model_hash").length());
                assertEquals("2", r.metadata().get("ss_network_dim"));
            }
        }
    }

    /** The GC frees the Java-owned memory DJL wraps without copying; a later NaN there must not reach a gradient. */
    private static void collectAndPoisonFreedMemory() {
        System.gc();
        java.util.List<java.nio.ByteBuffer> junk = new java.util.ArrayList<>();
        for (int size = 4; size <= 1 << 16; size *= 2) {
            for (int i = 0; i < 32; i++) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(size);
                while (b.hasRemaining()) {
                    b.put((byte) 0xFF);
                }
                junk.add(b);
            }
        }
    }

    /** One training forward and backward with every dropout on, seeded; the gradients of down and up. */
    private float[][] dropoutGradients(NetworkModule target, Shape xShape, boolean collect) {
        try (NDManager m = runtime.newManager()) {
            runtime.engine().setRandomSeed(3);
            NDArray w = m.randomNormal(new Shape(target.weightShape()));
            NDArray b = m.randomNormal(new Shape(target.weightShape()[0]));
            NDArray x = m.randomNormal(xShape);
            TrainableAdapter lora = type.createTrainable(target, type.parameters().validate(Map.of("network_dim", 3,
                    "network_alpha", 2, "network_dropout", 0.2, "rank_dropout", 0.3, "module_dropout", 0.0)), m, 9);
            NDArray up = lora.trainableTensors().get("lora_up.weight");
            up.set(m.randomNormal(up.getShape()).toFloatArray());
            for (NDArray p : lora.trainableTensors().values()) {
                p.setRequiresGradient(true);
            }
            runtime.engine().setRandomSeed(17);
            try (GradientCollector gc = runtime.engine().newGradientCollector()) {
                NDArray y = lora.forward(x, new Base(target, w, b), true).square().sum();
                if (collect) {
                    collectAndPoisonFreedMemory();
                }
                gc.backward(y);
            }
            return new float[][] {lora.trainableTensors().get("lora_down.weight").getGradient().toFloatArray(),
                    up.getGradient().toFloatArray()};
        }
    }

    @Test
    void dropoutsAreSeededByTheEngineAndTheBackwardReadsNoFreedMemory() {
        for (NetworkModule target : java.util.List.of(new Module(ModuleKind.LINEAR, new long[] {6, 5}, 0),
                new Module(ModuleKind.CONV2D, new long[] {4, 3, 3, 3}, 1))) {
            Shape xShape = target.kind() == ModuleKind.LINEAR ? new Shape(4, 3, 5) : new Shape(4, 3, 5, 5);
            float[][] clean = dropoutGradients(target, xShape, false);
            float[][] collected = dropoutGradients(target, xShape, true);
            for (int i = 0; i < 2; i++) {
                for (float v : collected[i]) {
                    assertEquals(true, Float.isFinite(v), target.kind() + " gradient " + i);
                }
                // same engine seed, same masks: what a resumed training step relies on
                assertArrayEquals(clean[i], collected[i], target.kind() + " gradient " + i);
            }
        }
    }

    @Test
    void linear() {
        check(new Module(ModuleKind.LINEAR, new long[] {6, 5}, 0), new Shape(2, 3, 5));
    }

    @Test
    void conv3x3() {
        check(new Module(ModuleKind.CONV2D, new long[] {4, 3, 3, 3}, 1), new Shape(2, 3, 5, 5));
    }
}
