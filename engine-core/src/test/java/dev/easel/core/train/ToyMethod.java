package dev.easel.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.model.Component;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.api.training.ParameterGroup;
import dev.easel.api.training.TrainingContext;
import dev.easel.api.training.TrainingExport;
import dev.easel.api.training.TrainingMethod;
import dev.easel.api.training.TrainingSession;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A test method: {@code mode=base} trains the toy model's selected base weights; {@code mode=adapter} wraps
 * {@code unet.in} with a rank-r low-rank delta (up initialised to zero, as LoRA) and trains only that.
 */
public final class ToyMethod implements TrainingMethod {
    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of("toy/test", "1.0.0", "Test method over the toy model");
    }

    @Override
    public ParameterSchema parameters() {
        return ParameterSchema.of(
                ParameterSpec.choice("mode", "adapter", List.of("adapter", "base"), "What to train."),
                ParameterSpec.text("train_modules", "unet.in,unet.ctx,unet.time", "Base modules trained."),
                ParameterSpec.integer("network_dim", 2, 1, 4, "Adapter rank."),
                ParameterSpec.floating("network_alpha", 1, 0, 100, "Adapter alpha (unused)."),
                ParameterSpec.text("network_args", "", "Extra network arguments (unused)."),
                ParameterSpec.floating("learning_rate", 1e-3, 0, 10, "Base learning rate."),
                ParameterSpec.integer("extra_params", 0, 0, 100_000_000,
                        "Extra trainable values that take part in the loss with weight 0 (optimiser load for benches)."));
    }

    @Override
    public TrainingSession start(TrainingContext context, ParameterValues p) {
        double lr = p.getDouble("learning_rate");
        List<NDArray> tensors = new ArrayList<>();
        Map<String, NDArray> named = new LinkedHashMap<>();
        if (p.getString("mode").equals("base")) {
            List<String> names = List.of(p.getString("train_modules").split(","));
            List<NDArray> base = context.network().trainBaseWeights(m -> names.contains(m.ldmName()));
            for (int i = 0; i < base.size(); i++) {
                named.put("base." + i, base.get(i));
            }
            tensors.addAll(base);
        } else {
            NetworkModule in = context.network().modules(Component.UNET).get(0);
            int rank = p.getInt("network_dim");
            long dim = in.weightShape()[1];
            NDManager m = context.manager();
            Random r = new Random(context.seed());
            float[] down = new float[(int) (rank * dim)];
            for (int i = 0; i < down.length; i++) {
                down[i] = (float) (r.nextGaussian() * 0.5);
            }
            NDArray a = m.create(down, new Shape(rank, dim));
            NDArray b = m.zeros(new Shape(in.weightShape()[0], rank));
            context.network().wrap(in, (x, baseModule, training) ->
                    baseModule.forward(x).add(x.matMul(a.transpose()).matMul(b.transpose())));
            named.put("lora_down.weight", a);
            named.put("lora_up.weight", b);
            tensors.add(a);
            tensors.add(b);
        }
        long extra = p.getLong("extra_params");
        NDArray ballast = extra > 0 ? context.manager().zeros(new Shape(extra)) : null;
        if (ballast != null) {
            tensors.add(ballast);
        }
        return new TrainingSession() {
            @Override
            public List<ParameterGroup> parameterGroups() {
                return List.of(new ParameterGroup("unet", tensors, lr));
            }

            @Override
            public NDArray loss(dev.easel.api.training.TrainingStep step) {
                NDArray loss = step.diffusionLoss();
                return ballast == null ? loss : loss.add(ballast.sum().mul(0f));
            }

            @Override
            public void export(TrainingExport export) throws IOException {
                List<TensorInfo> infos = new ArrayList<>();
                named.forEach((k, v) -> infos.add(new TensorInfo(k, DType.F32, v.getShape().getShape())));
                Map<String, String> meta = new LinkedHashMap<>(export.provenance());
                try (TensorSink sink = export.tensors(export.outputName() + ".safetensors", "format/safetensors",
                        new WritePlan(infos, meta))) {
                    for (Map.Entry<String, NDArray> e : named.entrySet()) {
                        sink.write(e.getKey(), e.getValue().toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN));
                    }
                    sink.commit();
                }
            }
        };
    }
}
