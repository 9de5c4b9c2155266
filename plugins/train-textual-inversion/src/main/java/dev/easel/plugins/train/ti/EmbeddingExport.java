package dev.easel.plugins.train.ti;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.api.training.TrainingExport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes trained vectors {@code [n, width]} as the tools load them:
 * <ul>
 *   <li>{@code NAME.pt}: AUTOMATIC1111's dict ({@code string_to_token {"*": 265}}, {@code string_to_param {"*": [n,
 *       width]}}, {@code name}, {@code step}, {@code sd_checkpoint}, {@code sd_checkpoint_name}) as
 *       {@code torch.save} writes it; A1111, kohya's {@code --weights}, diffusers and ComfyUI read it;</li>
 *   <li>{@code NAME.safetensors}: kohya's {@code {"emb_params": [n, width]}} with its {@code modelspec.*}
 *       metadata;</li>
 *   <li>{@code NAME.learned_embeds.safetensors}: diffusers' {@code {token: [n, width]}} with
 *       {@code {"format": "pt"}}, what {@code pipe.load_textual_inversion} reads.</li>
 * </ul>
 * NAME is the export's output name (the token unless {@code output_name} says otherwise): A1111 calls an embedding by
 * its file name, so the {@code .pt} is named for the word users type.
 */
final class EmbeddingExport {
    /** The legacy placeholder id every A1111 embedding carries in string_to_token. */
    private static final int A1111_PLACEHOLDER_ID = 265;

    private final String token;
    private final String formats;
    private final DType dtype;
    private final String predictionType;

    EmbeddingExport(String token, String formats, String precision, String predictionType) {
        this.token = token;
        this.formats = formats;
        this.dtype = switch (precision) {
            case "fp16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> DType.F32;
        };
        this.predictionType = predictionType;
    }

    /** The file names a save writes under an output name, in the order written. */
    List<String> fileNames(String outputName) {
        return switch (formats) {
            case "pt" -> List.of(outputName + ".pt");
            case "ckpt" -> List.of(outputName + ".ckpt");
            case "safetensors" -> List.of(outputName + ".safetensors");
            case "diffusers" -> List.of(outputName + ".learned_embeds.safetensors");
            default -> List.of(outputName + ".pt", outputName + ".safetensors",
                    outputName + ".learned_embeds.safetensors");
        };
    }

    void write(TrainingExport out, NDArray trained) throws IOException {
        NDArray vectors = trained.toType(switch (dtype) {
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            default -> DataType.FLOAT32;
        }, true);
        long[] shape = vectors.getShape().getShape();
        for (String file : fileNames(out.outputName())) {
            if (file.endsWith(".learned_embeds.safetensors")) {
                Map<String, String> md = new TreeMap<>(out.provenance());
                md.put("format", "pt");
                safetensors(out, file, token, vectors, shape, md);
            } else if (file.endsWith(".safetensors")) {
                safetensors(out, file, "emb_params", vectors, shape, kohyaMetadata(out, shape[1]));
            } else {
                out.torchSave(file, a1111(out, vectors));
            }
        }
    }

    private Map<String, Object> a1111(TrainingExport out, NDArray vectors) {
        Map<String, Object> dict = new LinkedHashMap<>();
        dict.put("string_to_token", Map.of("*", A1111_PLACEHOLDER_ID));
        dict.put("string_to_param", Map.of("*", vectors));
        dict.put("name", out.outputName());
        String steps = out.provenance().get("easel_steps");
        dict.put("step", steps == null ? null : Long.valueOf(steps));
        // A1111 stores its own short model hash here; Easel has no cheap equivalent, and A1111 writes None too for
        // embeddings it has not trained
        dict.put("sd_checkpoint", null);
        dict.put("sd_checkpoint_name", modelName(out));
        return dict;
    }

    private static String modelName(TrainingExport out) {
        String base = out.provenance().get("easel_base_model");
        if (base == null || base.isBlank()) {
            return null;
        }
        String name = base.replaceAll(".*[/\\\\]", "");
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** The {@code modelspec.*} keys kohya's train_textual_inversion.py writes, plus Easel's provenance. */
    private Map<String, String> kohyaMetadata(TrainingExport out, long width) {
        Map<String, String> md = new TreeMap<>(out.provenance());
        boolean v = predictionType.startsWith("v");
        md.put("modelspec.sai_model_spec", "1.0.0");
        md.put("modelspec.architecture", (width == 1024 ? (v ? "stable-diffusion-v2-768-v" : "stable-diffusion-v2-512")
                : "stable-diffusion-v1") + "/textual-inversion");
        md.put("modelspec.implementation", "diffusers");
        md.put("modelspec.title", out.outputName());
        md.put("modelspec.prediction_type", v ? "v" : "epsilon");
        return md;
    }

    private void safetensors(TrainingExport out, String file, String key, NDArray vectors, long[] shape,
                             Map<String, String> metadata) throws IOException {
        ByteBuffer bytes = vectors.toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer copy = ByteBuffer.allocate(bytes.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(bytes).flip();
        WritePlan plan = new WritePlan(List.of(new TensorInfo(key, dtype, shape)), metadata);
        try (TensorSink sink = out.tensors(file, "format/safetensors", plan)) {
            sink.write(key, copy);
            sink.commit();
        }
    }
}
