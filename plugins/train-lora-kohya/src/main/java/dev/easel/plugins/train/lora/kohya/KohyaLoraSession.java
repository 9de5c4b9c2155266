package dev.easel.plugins.train.lora.kohya;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.ParameterValues;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.adapter.TrainableAdapter;
import dev.easel.api.model.Component;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.api.training.ParameterGroup;
import dev.easel.api.training.TrainingContext;
import dev.easel.api.training.TrainingExport;
import dev.easel.api.training.TrainingSession;
import dev.easel.api.training.TrainingStep;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One LoRA job: the wrapped modules, their parameter groups, and the kohya export. */
final class KohyaLoraSession implements TrainingSession {
    /** One adapted module. */
    record Module(String kohyaName, NetworkModule target, TrainableAdapter adapter, int rank, double alpha) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(KohyaLoraSession.class);

    private final ParameterValues parameters;
    private final NetworkArgs args;
    private final List<Module> modules;
    private final List<ParameterGroup> groups;
    private final String baseVersion;
    private final long startedAt = Instant.now().getEpochSecond();

    private KohyaLoraSession(ParameterValues parameters, NetworkArgs args, List<Module> modules,
                             List<ParameterGroup> groups, String baseVersion) {
        this.parameters = parameters;
        this.args = args;
        this.modules = modules;
        this.groups = groups;
        this.baseVersion = baseVersion;
    }

    static KohyaLoraSession start(TrainingContext context, ParameterValues p) throws IOException {
        NetworkArgs args = NetworkArgs.parse(p.getString("network_args"));
        boolean unetOnly = p.getBoolean("network_train_unet_only");
        boolean textOnly = p.getBoolean("network_train_text_encoder_only");
        if (unetOnly && textOnly) {
            throw new IllegalArgumentException("network_train_unet_only and network_train_text_encoder_only are both "
                    + "set: nothing would be trained");
        }
        String weightsFile = p.getString("network_weights");
        boolean dimFromWeights = p.getBoolean("dim_from_weights");
        if (dimFromWeights && weightsFile.isBlank()) {
            throw new IllegalArgumentException("dim_from_weights is set but network_weights is not: the ranks come "
                    + "from the network_weights file");
        }
        NetworkWeights weights = weightsFile.isBlank() ? null : NetworkWeights.read(context, Path.of(weightsFile));
        AdapterType type = context.adapterType(KohyaLoraTraining.ADAPTER_TYPE);
        int networkDim = p.getInt("network_dim");
        double lr = p.getDouble("learning_rate");
        double unetLr = p.getDouble("unet_lr") < 0 ? lr : p.getDouble("unet_lr");
        double textLr = p.getDouble("text_encoder_lr") < 0 ? lr : p.getDouble("text_encoder_lr");
        boolean sdxl = !context.network().modules(Component.TEXT_ENCODER_2).isEmpty();

        List<Module> modules = new ArrayList<>();
        List<NDArray> textTensors = new ArrayList<>();
        List<NDArray> unetTensors = new ArrayList<>();
        int alphaDiffers = 0;
        // kohya's order: text encoder(s) first, then the UNet
        List<Component> components = new ArrayList<>();
        if (!unetOnly) {
            components.add(Component.TEXT_ENCODER);
            components.add(Component.TEXT_ENCODER_2);
        }
        if (!textOnly) {
            components.add(Component.UNET);
        }
        long index = 0;
        for (Component component : components) {
            for (NetworkModule m : context.network().modules(component)) {
                String kohyaName = KohyaTargets.kohyaName(m, sdxl);
                String inFile = weights == null ? null : weights.find(KohyaTargets.namesInFiles(m, sdxl));
                boolean convRank = KohyaTargets.isConvRank(m);
                int rank;
                double alpha;
                if (dimFromWeights) {
                    // kohya's create_network_from_weights: exactly the file's modules, at the file's ranks
                    if (inFile == null || KohyaTargets.rank(m, 1, 1) == 0) {
                        continue;
                    }
                    rank = weights.rank(inFile);
                    alpha = weights.alpha(inFile);
                } else {
                    rank = KohyaTargets.rank(m, networkDim, args.convDim());
                    if (rank == 0) {
                        continue;
                    }
                    alpha = convRank ? args.convAlpha() : p.getDouble("network_alpha");
                    alpha = alpha == 0 ? rank : alpha;
                    if (inFile != null && Math.abs(weights.alpha(inFile) - alpha) > 1e-6 * Math.max(1, alpha)) {
                        // the file's alpha keeps the module's effect what it was (kohya keeps the configured scale
                        // but saves the file's alpha, a known FIXME of train_network.py)
                        alpha = weights.alpha(inFile);
                        alphaDiffers++;
                    }
                }
                ParameterValues adapterParams = new ParameterValues(Map.of(
                        "network_dim", (long) rank,
                        "network_alpha", alpha,
                        "network_dropout", p.getDouble("network_dropout"),
                        "rank_dropout", args.rankDropout(),
                        "module_dropout", args.moduleDropout()));
                // one seed per module from the job's seed and the module's position: the same job initialises alike
                long seed = context.seed() * 0x9E3779B97F4A7C15L + (++index) * 0xBF58476D1CE4E5B9L;
                TrainableAdapter adapter = type.createTrainable(m, adapterParams, context.manager(), seed);
                if (inFile != null) {
                    weights.copyInto(inFile, adapter.trainableTensors());
                }
                context.network().wrap(m, adapter::forward);
                modules.add(new Module(kohyaName, m, adapter, rank, alpha));
                (component == Component.UNET ? unetTensors : textTensors).addAll(adapter.trainableTensors().values());
            }
        }
        if (weights != null) {
            List<String> unused = weights.unused();
            if (unused.size() == weights.size()) {
                throw new IllegalArgumentException(weights.file() + ": network_weights: none of its "
                        + weights.size() + " modules is one this job trains (" + unused.get(0) + ", ...): a LoRA "
                        + "for another model type, or network_train_unet_only / _text_encoder_only?");
            }
            LOG.info("network_weights {}: {} of {} modules loaded", weights.file(), weights.size() - unused.size(),
                    weights.size());
            if (!unused.isEmpty()) {
                LOG.warn("network_weights {}: {} modules not trained by this job are left out of the result: {}",
                        weights.file(), unused.size(), unused.subList(0, Math.min(3, unused.size())));
            }
            if (alphaDiffers > 0) {
                LOG.warn("network_weights {}: {} modules keep the file's alpha, which differs from network_alpha/"
                        + "conv_alpha", weights.file(), alphaDiffers);
            }
            weights.close();
        }
        if (modules.isEmpty()) {
            throw new IllegalArgumentException("lora/kohya: the model has no module kohya's networks.lora adapts");
        }
        List<ParameterGroup> groups = new ArrayList<>();
        if (!textTensors.isEmpty()) {
            groups.add(new ParameterGroup("text_encoder", textTensors, textLr));
        }
        if (!unetTensors.isEmpty()) {
            groups.add(new ParameterGroup("unet", unetTensors, unetLr));
        }
        return new KohyaLoraSession(p, args, List.copyOf(modules), List.copyOf(groups), baseVersion(context, sdxl));
    }

    /** kohya's {@code ss_base_model_version}: SDXL by its second text encoder, SD2 by its 1024-wide text encoder. */
    private static String baseVersion(TrainingContext context, boolean sdxl) {
        if (sdxl) {
            return "sdxl_base_v1-0";
        }
        List<NetworkModule> te = context.network().modules(Component.TEXT_ENCODER);
        boolean wide = te.stream().anyMatch(m -> m.weightShape().length == 2 && m.weightShape()[1] == 1024);
        return wide ? "sd_v2" : "sd_v1";
    }

    /** The adapted modules, in kohya's order. */
    List<Module> modules() {
        return modules;
    }

    @Override
    public List<ParameterGroup> parameterGroups() {
        return groups;
    }

    @Override
    public void afterStep(TrainingStep step) {
        for (Module m : modules) {
            m.adapter().afterOptimizerStep();
        }
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
        // sorted as the safetensors writer lays tensors out, so the data-section hash is computable up front
        TreeMap<String, ByteBuffer> bytes = new TreeMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Module m : modules) {
            for (Map.Entry<String, NDArray> e : m.adapter().export().entrySet()) {
                String key = m.kohyaName() + "." + e.getKey();
                NDArray a = e.getValue();
                ByteBuffer b = a.toType(djlType, true).toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer copy = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
                copy.put(b).flip();
                bytes.put(key, copy);
                shapes.put(key, a.getShape().getShape());
            }
        }
        List<TensorInfo> infos = new ArrayList<>();
        for (String key : bytes.keySet()) {
            infos.add(new TensorInfo(key, dtype, shapes.get(key)));
        }
        Map<String, String> metadata = metadata(export);
        metadata.put("sshs_model_hash", sha256(bytes.values()));
        String file = export.outputName() + ".safetensors";
        try (TensorSink sink = export.tensors(file, "format/safetensors", new WritePlan(infos, metadata))) {
            for (Map.Entry<String, ByteBuffer> e : bytes.entrySet()) {
                sink.write(e.getKey(), e.getValue().duplicate());
            }
            sink.commit();
        }
    }

    /** The {@code ss_*} and {@code modelspec.*} keys kohya's {@code train_network.py} writes, as Python spells them. */
    private Map<String, String> metadata(TrainingExport export) {
        Map<String, String> prov = export.provenance();
        Map<String, String> md = new TreeMap<>(prov);
        int dim = parameters.getInt("network_dim");
        double alpha = parameters.getDouble("network_alpha");
        Map<String, String> networkArgs = new TreeMap<>(args.given());
        if (parameters.getBoolean("dim_from_weights")) {
            // the ranks came from the file: report the ones most modules have, as a file trained at them would
            Module linear = mostCommon(false);
            Module conv = mostCommon(true);
            if (linear != null) {
                dim = linear.rank();
                alpha = linear.alpha();
            }
            if (conv != null) {
                networkArgs.put("conv_dim", Integer.toString(conv.rank()));
                networkArgs.put("conv_alpha", pyFloat(conv.alpha()));
            }
        }
        md.put("ss_network_module", "networks.lora");
        md.put("ss_network_dim", Integer.toString(dim));
        md.put("ss_network_alpha", pyFloat(alpha == 0 ? dim : alpha));
        md.put("ss_network_dropout", pyFloat(parameters.getDouble("network_dropout")));
        if (!networkArgs.isEmpty()) {
            StringBuilder json = new StringBuilder("{");
            networkArgs.forEach((k, v) -> json.append(json.length() > 1 ? ", " : "")
                    .append('"').append(k).append("\": \"").append(v.replace("\"", "")).append('"'));
            md.put("ss_network_args", json.append('}').toString());
        }
        double lr = parameters.getDouble("learning_rate");
        md.put("ss_learning_rate", pyFloat(lr));
        md.put("ss_unet_lr", pyFloat(parameters.getDouble("unet_lr") < 0 ? lr : parameters.getDouble("unet_lr")));
        md.put("ss_text_encoder_lr", pyFloat(parameters.getDouble("text_encoder_lr") < 0 ? lr
                : parameters.getDouble("text_encoder_lr")));
        md.put("ss_network_train_unet_only", pyBool(parameters.getBoolean("network_train_unet_only")));
        md.put("ss_network_train_text_encoder_only",
                pyBool(parameters.getBoolean("network_train_text_encoder_only")));
        md.put("ss_base_model_version", baseVersion);
        md.put("ss_v2", pyBool(baseVersion.equals("sd_v2")));
        md.put("ss_output_name", export.outputName());
        md.put("ss_session_id", Long.toString(Math.abs((long) prov.getOrDefault("easel_seed", "0").hashCode())));
        md.put("ss_training_started_at", Long.toString(startedAt));
        md.put("ss_training_finished_at", Long.toString(Instant.now().getEpochSecond()));
        putIf(md, "ss_seed", prov.get("easel_seed"));
        putIf(md, "ss_steps", prov.get("easel_steps"));
        putIf(md, "ss_max_train_steps", prov.get("easel_steps"));
        putIf(md, "ss_epoch", prov.get("easel_epoch"));
        putIf(md, "ss_training_comment", prov.get("easel_training_comment"));
        String base = prov.get("easel_base_model");
        if (base != null) {
            md.put("ss_sd_model_name", base.replaceAll(".*[/\\\\]", ""));
        }
        md.put("modelspec.sai_model_spec", "1.0.1");
        md.put("modelspec.architecture", switch (baseVersion) {
            case "sd_v2" -> "stable-diffusion-v2-512/lora";
            case "sdxl_base_v1-0" -> "stable-diffusion-xl-v1-base/lora";
            default -> "stable-diffusion-v1/lora";
        });
        md.put("modelspec.implementation", baseVersion.startsWith("sdxl")
                ? "https://github.com/Stability-AI/generative-models" : "diffusers");
        md.put("modelspec.title", export.outputName());
        md.put("modelspec.prediction_type", "epsilon");
        return md;
    }

    /** The module whose (rank, alpha) most modules of a kind share, or {@code null} if there is none. */
    private Module mostCommon(boolean convRank) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<String, Module> first = new LinkedHashMap<>();
        for (Module m : modules) {
            if (KohyaTargets.isConvRank(m.target()) == convRank) {
                String key = m.rank() + "/" + m.alpha();
                counts.merge(key, 1, Integer::sum);
                first.putIfAbsent(key, m);
            }
        }
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> first.get(e.getKey()))
                .orElse(null);
    }

    private static void putIf(Map<String, String> md, String key, String value) {
        if (value != null) {
            md.put(key, value);
        }
    }

    /** Python's {@code str(float)} for the values kohya writes ({@code 1.0}, {@code 0.0001}). */
    static String pyFloat(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e16) {
            return (long) v + ".0";
        }
        double abs = Math.abs(v);
        if (abs >= 1e-4 && abs < 1e16) {
            return new java.math.BigDecimal(Double.toString(v)).toPlainString();
        }
        // Python writes 1e-05 where Java writes 1.0E-5
        String[] parts = Double.toString(v).split("E");
        String mantissa = parts[0].endsWith(".0") ? parts[0].substring(0, parts[0].length() - 2) : parts[0];
        int exp = Integer.parseInt(parts[1]);
        return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }

    private static String pyBool(boolean b) {
        return b ? "True" : "False";
    }

    private static String sha256(Iterable<ByteBuffer> data) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (ByteBuffer b : data) {
                sha.update(b.duplicate());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
