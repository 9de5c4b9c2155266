package dev.easel.plugins.train.finetune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.ParameterValues;
import dev.easel.api.model.BaseModule;
import dev.easel.api.model.Component;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.api.training.NetworkHooks;
import dev.easel.api.training.ParameterGroup;
import dev.easel.api.training.TrainingContext;
import dev.easel.api.training.TrainingExport;
import dev.easel.api.training.TrainingSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One full fine-tuning job: the base weights it unfroze, and the whole-checkpoint export. */
final class FullFinetuneSession implements TrainingSession {
    /** Metadata key of a model config that the keys do not tell (the engine's provenance carries it). */
    static final String CONFIG_KEY = "easel_model_config";
    private static final String SD1_TEXT = "cond_stage_model.transformer.text_model.";
    private static final List<Component> ORDER = List.of(Component.TEXT_ENCODER, Component.TEXT_ENCODER_2,
            Component.UNET, Component.VAE);

    private final NetworkHooks network;
    private final ParameterValues parameters;
    private final List<ParameterGroup> groups;

    private FullFinetuneSession(NetworkHooks network, ParameterValues parameters, List<ParameterGroup> groups) {
        this.network = network;
        this.parameters = parameters;
        this.groups = groups;
    }

    static FullFinetuneSession start(TrainingContext context, ParameterValues p) {
        NetworkHooks network = context.network();
        for (Component c : ORDER) {
            for (NetworkModule m : network.modules(c)) {
                if (!(m instanceof BaseModule)) {
                    throw new IllegalArgumentException("finetune/full: module " + m.ldmName() + " does not expose "
                            + "its weights; this engine's networks cannot be fully fine-tuned");
                }
                if (m.ldmName().startsWith("cond_stage_model.model.")) {
                    throw new IllegalArgumentException("finetune/full: SD2 (OpenCLIP) checkpoints are not supported"
                            + " yet; the text projection is not a module this method can save");
                }
            }
        }
        double lr = p.getDouble("learning_rate");
        double teLr = p.getDouble("learning_rate_te") < 0 ? lr : p.getDouble("learning_rate_te");
        List<ParameterGroup> groups = new ArrayList<>();
        if (p.getBoolean("train_text_encoder")) {
            List<NDArray> te = network.trainBaseWeights(m -> m.component() == Component.TEXT_ENCODER
                    || m.component() == Component.TEXT_ENCODER_2);
            if (!te.isEmpty()) {
                groups.add(new ParameterGroup("text_encoder", te, teLr));
            }
        }
        groups.add(new ParameterGroup("unet", network.trainBaseWeights(m -> m.component() == Component.UNET), lr));
        return new FullFinetuneSession(network, p, List.copyOf(groups));
    }

    @Override
    public List<ParameterGroup> parameterGroups() {
        return groups;
    }

    @Override
    public void export(TrainingExport export) throws IOException {
        DType dtype = switch (parameters.getString("save_precision")) {
            case "fp16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> DType.F32;
        };
        DataType djlType = dtype == DType.F16 ? DataType.FLOAT16 : dtype == DType.BF16 ? DataType.BFLOAT16
                : DataType.FLOAT32;
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        long positions = 0;
        for (Component c : ORDER) {
            for (NetworkModule m : network.modules(c)) {
                BaseModule b = (BaseModule) m;
                tensors.put(m.ldmName() + ".weight", b.weight());
                if (b.bias() != null) {
                    tensors.put(m.ldmName() + ".bias", b.bias());
                }
                if (m.ldmName().equals(SD1_TEXT + "embeddings.position_embedding")) {
                    positions = m.weightShape()[0];
                }
            }
        }
        List<TensorInfo> infos = new ArrayList<>();
        for (var e : tensors.entrySet()) {
            infos.add(new TensorInfo(e.getKey(), dtype, e.getValue().getShape().getShape()));
        }
        String positionIds = SD1_TEXT + "embeddings.position_ids";
        if (positions > 0) {
            // SD1 checkpoints carry CLIP's position_ids buffer; some loaders expect it
            infos.add(new TensorInfo(positionIds, DType.I64, new long[] {1, positions}));
        }
        Map<String, String> metadata = new TreeMap<>(export.provenance());
        metadata.put("modelspec.sai_model_spec", "1.0.1");
        metadata.put("modelspec.architecture", "stable-diffusion-v1");
        metadata.put("modelspec.implementation", "https://github.com/Stability-AI/stablediffusion");
        metadata.put("modelspec.title", export.outputName());
        metadata.put("modelspec.prediction_type", "epsilon");
        String config = metadata.get(CONFIG_KEY);
        if (config != null) {
            // beside the checkpoint too, where AUTOMATIC1111-style loaders look for NAME.yaml/NAME.json
            try (OutputStream out = export.file(export.outputName() + ".json")) {
                out.write(config.getBytes(StandardCharsets.UTF_8));
            }
        }
        String file = export.outputName() + ".safetensors";
        try (TensorSink sink = export.tensors(file, "format/safetensors", new WritePlan(infos, metadata))) {
            for (var e : tensors.entrySet()) {
                try (NDArray cast = e.getValue().toType(djlType, true)) {
                    ByteBuffer b = cast.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer copy = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
                    copy.put(b).flip();
                    sink.write(e.getKey(), copy);
                }
            }
            if (positions > 0) {
                ByteBuffer ids = ByteBuffer.allocate((int) (8 * positions)).order(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < positions; i++) {
                    ids.putLong(i);
                }
                sink.write(positionIds, ids.flip());
            }
            sink.commit();
        }
    }
}
