package dev.easel.plugins.merge.taskvectors;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * (Same fixtures as merge-basic's tests; test classes are not shared between plugin modules.)
 * Small fp16 safetensors checkpoints in the real SD1 (ldm) key layout: a few keys per block with tiny shapes, the
 * int64 {@code position_ids}, an EMA key, and a {@code conv_in} with 4 (or 9, inpainting) input channels.
 */
final class Sd1Fixtures {
    static final String POSITION_IDS = "cond_stage_model.transformer.text_model.embeddings.position_ids";
    static final String TE = "cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight";
    static final String TIME = "model.diffusion_model.time_embed.0.weight";
    static final String CONV_IN = "model.diffusion_model.input_blocks.0.0.weight";
    static final String IN04 = "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight";
    static final String MID = "model.diffusion_model.middle_block.1.proj_in.weight";
    static final String OUT05 = "model.diffusion_model.output_blocks.5.1.proj_out.weight";
    static final String OUT = "model.diffusion_model.out.2.bias";
    static final String VAE = "first_stage_model.decoder.conv_out.weight";
    static final String EMA = "model_ema.diffusion_modelinput_blocks00weight";

    /** Keys of the float tensors, in file order, with their shapes. */
    static Map<String, long[]> shapes(int convInChannels) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put(TE, new long[] {8, 4});
        m.put(TIME, new long[] {8, 4});
        m.put(CONV_IN, new long[] {8, convInChannels, 3, 3});
        m.put(IN04, new long[] {4, 6});
        m.put(MID, new long[] {4, 4, 1, 1});
        m.put(OUT05, new long[] {4, 4});
        m.put(OUT, new long[] {4});
        m.put(VAE, new long[] {3, 4, 3, 3});
        m.put(EMA, new long[] {8, 4, 3, 3});
        return m;
    }

    /** Writes a fixture whose float values are {@code seed}-dependent and returns them (as float32 before fp16). */
    static Map<String, float[]> write(ComputeRuntime runtime, Path file, long seed, int convInChannels)
            throws IOException {
        return write(runtime, file, seed, shapes(convInChannels));
    }

    /** Writes the given float keys (fp16) plus {@code position_ids}. */
    static Map<String, float[]> write(ComputeRuntime runtime, Path file, long seed, Map<String, long[]> shapes)
            throws IOException {
        Random random = new Random(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        infos.add(new TensorInfo(POSITION_IDS, DType.I64, 1, 77));
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            infos.add(new TensorInfo(e.getKey(), DType.F16, e.getValue()));
        }
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(infos, Map.of("format", "pt")));
             NDManager m = runtime.newManager()) {
            ByteBuffer ids = ByteBuffer.allocate(77 * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 77; i++) {
                ids.putLong(i);
            }
            w.write(POSITION_IDS, ids.flip());
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long n = 1;
                for (long d : e.getValue()) {
                    n *= d;
                }
                float[] v = new float[(int) n];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (random.nextGaussian() * 0.5);
                }
                var half = m.create(v).toType(DataType.FLOAT16, false);
                values.put(e.getKey(), half.toType(DataType.FLOAT32, false).toFloatArray());
                ByteBuffer bytes = half.toByteBuffer(false).order(ByteOrder.LITTLE_ENDIAN);
                w.write(e.getKey(), bytes);
            }
            w.commit();
        }
        return values;
    }

    private Sd1Fixtures() {
    }
}
