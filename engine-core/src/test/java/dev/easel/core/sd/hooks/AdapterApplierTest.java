package dev.easel.core.sd.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.model.Component;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsFormat;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.model.ModelLoadException;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.sampling.NoiseSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code --lora} extension point with a plain kohya LoRA type (ΔW = up · down · alpha / rank). */
class AdapterApplierTest {
    @TempDir
    Path dir;

    /** The simplest LoRA type, standing in for the LoRA plugins. */
    static final class PlainLora implements AdapterType {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of("adapter/test-lora", "1.0.0", "test");
        }

        @Override
        public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
            TensorInfo down = tensors.get("lora_down.weight");
            return down == null || !tensors.containsKey("lora_up.weight") ? Optional.empty()
                    : Optional.of(new AdapterModule(prefix, tensors, (int) down.dim(0), 2.0, "plain"));
        }

        @Override
        public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager m) {
            return tensors.get("lora_up.weight").matMul(tensors.get("lora_down.weight")).mul(module.alpha().floatValue()
                    / module.rank());
        }
    }

    private static ByteBuffer bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.flip();
    }

    @Test
    void appliesKohyaLoraThroughAdapterTypes() throws Exception {
        try (NDManager m = ParityFixtures.runtime().newManager();
             SdModel model = SdModel.random(RandomModels.tinyConfig(), 2, m)) {
            SdNetworkHooks hooks = new SdNetworkHooks(model, m);
            NetworkModule target = hooks.modules(Component.UNET).stream()
                    .filter(x -> x.ldmName().endsWith("middle_block.1.transformer_blocks.0.attn2.to_q")).findFirst()
                    .orElseThrow();
            String name = AdapterApplier.kohyaName(target);
            assertEquals("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_q", name);
            long out = target.weightShape()[0];
            long in = target.weightShape()[1];
            float[] down = new NoiseSource(1).next(m, new Shape(4, in)).toFloatArray();
            float[] up = new NoiseSource(2).next(m, new Shape(out, 4)).toFloatArray();
            Path file = dir.resolve("lora.safetensors");
            try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(List.of(
                    new TensorInfo(name + ".lora_down.weight", DType.F32, 4, in),
                    new TensorInfo(name + ".lora_up.weight", DType.F32, out, 4)), Map.of()))) {
                w.write(name + ".lora_down.weight", bytes(down));
                w.write(name + ".lora_up.weight", bytes(up));
                w.commit();
            }
            Layer layer = hooks.layerOf(target);
            NDArray x = new NoiseSource(3).next(m, new Shape(1, 5, in));
            NDArray expectedW = layer.weight().add(m.create(up, new Shape(out, 4)).matMul(m.create(down,
                    new Shape(4, in))).mul(0.5f * 2f / 4f));
            NDArray expected = layer.forward(x, expectedW, layer.bias());

            AdapterApplier applier = new AdapterApplier(hooks, List.of(new PlainLora()),
                    List.of(new SafetensorsFormat()));
            assertEquals(1, applier.add(file, 0.5f));
            applier.install();
            NDArray actual = layer.apply(x);
            assertTrue(actual.sub(expected).abs().max().getFloat() < 1e-5);

            AdapterApplier none = new AdapterApplier(hooks, List.of(), List.of(new SafetensorsFormat()));
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> none.add(file, 1f));
            assertTrue(e.getMessage().contains("no adapter type plugin"), e.getMessage());
        }
    }
}
