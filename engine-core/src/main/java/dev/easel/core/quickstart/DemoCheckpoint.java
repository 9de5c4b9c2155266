package dev.easel.core.quickstart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsWriter;
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
 * A small fp16 safetensors checkpoint in the real SD1 (CompVis ldm) key layout: for every merge block (text encoder
 * and VAE as BASE, IN00–IN11, M00, OUT00–OUT11) a few of the keys SD 1.5 has there, with widths divided by 40, plus
 * the int64 {@code position_ids} that merges must copy rather than average. Its values are seeded Gaussians, so two
 * seeds give two distinct models whose merge can be checked exactly.
 */
public final class DemoCheckpoint {
    private static final String UNET = "model.diffusion_model.";
    static final String POSITION_IDS = "cond_stage_model.transformer.text_model.embeddings.position_ids";

    private DemoCheckpoint() {
    }

    /** The float keys and shapes, in file order (sorted, as safetensors writers order them). */
    public static Map<String, long[]> shapes() {
        Map<String, long[]> m = new java.util.TreeMap<>();
        String te = "cond_stage_model.transformer.text_model.";
        m.put(te + "embeddings.token_embedding.weight", new long[] {64, 16});
        m.put(te + "embeddings.position_embedding.weight", new long[] {77, 16});
        for (int layer = 0; layer < 2; layer++) {
            String l = te + "encoder.layers." + layer + ".";
            m.put(l + "self_attn.q_proj.weight", new long[] {16, 16});
            m.put(l + "self_attn.k_proj.weight", new long[] {16, 16});
            m.put(l + "mlp.fc1.weight", new long[] {64, 16});
            m.put(l + "mlp.fc1.bias", new long[] {64});
        }
        m.put(te + "final_layer_norm.weight", new long[] {16});
        m.put(UNET + "time_embed.0.weight", new long[] {32, 8});
        m.put(UNET + "time_embed.2.weight", new long[] {32, 32});
        int[] inWidth = {8, 8, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32};
        for (int i = 0; i < 12; i++) {
            int c = inWidth[i];
            if (i == 0) {
                m.put(UNET + "input_blocks.0.0.weight", new long[] {8, 4, 3, 3});
                m.put(UNET + "input_blocks.0.0.bias", new long[] {8});
            } else if (i % 3 == 0) {
                m.put(UNET + "input_blocks." + i + ".0.op.weight", new long[] {c, c, 3, 3});
            } else {
                m.put(UNET + "input_blocks." + i + ".0.in_layers.2.weight", new long[] {c, c, 3, 3});
                m.put(UNET + "input_blocks." + i + ".0.emb_layers.1.weight", new long[] {c, 32});
                if (i < 9) {
                    attention(m, UNET + "input_blocks." + i + ".1.", c);
                }
            }
        }
        m.put(UNET + "middle_block.0.in_layers.2.weight", new long[] {32, 32, 3, 3});
        attention(m, UNET + "middle_block.1.", 32);
        int[] outWidth = {32, 32, 32, 32, 32, 32, 16, 16, 16, 8, 8, 8};
        for (int i = 0; i < 12; i++) {
            int c = outWidth[i];
            m.put(UNET + "output_blocks." + i + ".0.in_layers.2.weight", new long[] {c, c, 3, 3});
            if (i >= 3) {
                attention(m, UNET + "output_blocks." + i + ".1.", c);
            }
        }
        m.put(UNET + "out.0.weight", new long[] {8});
        m.put(UNET + "out.2.weight", new long[] {4, 8, 3, 3});
        m.put(UNET + "out.2.bias", new long[] {4});
        m.put("first_stage_model.encoder.conv_in.weight", new long[] {8, 3, 3, 3});
        m.put("first_stage_model.decoder.conv_out.weight", new long[] {3, 8, 3, 3});
        m.put("first_stage_model.quant_conv.weight", new long[] {8, 8, 1, 1});
        return m;
    }

    private static void attention(Map<String, long[]> m, String prefix, int c) {
        m.put(prefix + "proj_in.weight", new long[] {c, c, 1, 1});
        m.put(prefix + "transformer_blocks.0.attn1.to_q.weight", new long[] {c, c});
        m.put(prefix + "transformer_blocks.0.attn2.to_k.weight", new long[] {c, 16});
        m.put(prefix + "transformer_blocks.0.attn2.to_v.weight", new long[] {c, 16});
        m.put(prefix + "transformer_blocks.0.ff.net.2.weight", new long[] {c, 4 * c});
        m.put(prefix + "proj_out.weight", new long[] {c, c, 1, 1});
    }

    /**
     * Writes the checkpoint for {@code seed} atomically.
     *
     * @return the number of tensors written
     */
    public static int write(Path file, long seed, NDManager manager) throws IOException {
        Map<String, long[]> shapes = shapes();
        List<TensorInfo> infos = new ArrayList<>();
        infos.add(new TensorInfo(POSITION_IDS, DType.I64, 1, 77));
        shapes.forEach((k, s) -> infos.add(new TensorInfo(k, DType.F16, s)));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("easel.demo_seed", Long.toString(seed));
        Random random = new Random(seed);
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(infos, metadata));
             NDManager m = manager.newSubManager()) {
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
                float[] v = new float[Math.toIntExact(n)];
                double scale = 1.0 / Math.sqrt(Math.max(1, n / e.getValue()[0]));
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (random.nextGaussian() * scale);
                }
                try (NDArray half = m.create(v).toType(DataType.FLOAT16, false)) {
                    w.write(e.getKey(), half.toByteBuffer(false).order(ByteOrder.LITTLE_ENDIAN));
                }
            }
            w.commit();
        }
        return infos.size();
    }
}
