package dev.easel.plugins.train.lora.kohya;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.training.NetworkHooks;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginOrigin;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.train.SdDiffusionModel;
import dev.easel.core.sd.train.SdDiffusionModelLoader;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.config.JobConfigLoader;
import dev.easel.core.train.loop.NoiseSchedule;
import dev.easel.core.train.loop.Trainer;
import dev.easel.core.train.loop.TrainingListener;
import dev.easel.core.train.loop.TrainingResult;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.ForwardingDiffusionModel;
import dev.easel.core.train.model.DiffusionModelLoader;
import dev.easel.core.train.model.DiffusionModels;
import dev.easel.core.sd.nn.Layer;
import dev.easel.plugins.adapter.kohya.KohyaLoraAdapter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

/** The tiny SD model, a tiny dataset, the wiring of a LoRA job and the probes the tests read. */
final class LoraJobs {
    static final ComputeRuntime RUNTIME = new ComputeRuntime().start();

    private LoraJobs() {
    }

    /** What a run's model looked like at load (no hooks) and at the end (trained hooks installed). */
    static final class Probe {
        float[] basePrediction;
        double baseLoss;
        float[] finalPrediction;
        double finalLoss;
        Map<String, float[]> frozenAtEnd = new LinkedHashMap<>();
        Map<String, float[]> frozenAtLoad = new LinkedHashMap<>();
    }

    /**
     * Writes a tiny SD1 model (and its config beside it): the parity model's widths with SD's two resnets per level,
     * because ldm/kohya name conversion (what {@code easel lora bake} maps kohya names with) counts blocks in SD's
     * layout.
     */
    static Path tinyModel(Path dir) throws IOException {
        String json;
        try (var in = RandomModels.class.getResourceAsStream("/dev/easel/core/sd/configs/tiny-sd1.json")) {
            json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        // the first num_res_blocks is the UNet's
        json = json.replaceFirst("\"num_res_blocks\": 1", "\"num_res_blocks\": 2");
        Path config = dir.resolve("tiny-sd1-2res.json");
        Files.writeString(config, json);
        return RandomModels.write(config.toString(), 7, dir.resolve("tiny.safetensors")).model();
    }

    /** A few 64x64 PNGs with captions: smooth colour fields, two "classes". */
    static Path images(Path dir, int count) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(3);
        for (int i = 0; i < count; i++) {
            BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
            int base = i % 2 == 0 ? 0xC03020 : 0x2040C0;
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    int v = (x + y) * 2 + r.nextInt(8);
                    img.setRGB(x, y, (base + (v << 8)) & 0xFFFFFF);
                }
            }
            ImageIO.write(img, "png", dir.resolve("img" + i + ".png").toFile());
            Files.writeString(dir.resolve("img" + i + ".txt"), i % 2 == 0 ? "a red square" : "a blue square");
        }
        return dir;
    }

    static Map<String, String> params(Path model, Path data, Path out) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("pretrained_model_name_or_path", model.toString());
        p.put("train_data_dir", data.toString());
        p.put("output_dir", out.toString());
        p.put("output_name", "tiny_lora");
        p.put("resolution", "32");
        p.put("latent_cache_dir", out.resolveSibling("cache").toString());
        p.put("seed", "42");
        p.put("max_train_steps", "12");
        p.put("train_batch_size", "2");
        p.put("learning_rate", "0.01");
        p.put("network_dim", "4");
        p.put("network_alpha", "4");
        p.put("save_state", "false");
        return p;
    }

    static PluginRegistry registry() {
        PluginRegistry r = new PluginRegistry();
        r.register(new KohyaLoraTraining(), new PluginOrigin("classpath", "1.0.0", -1, "test"));
        r.register(new KohyaLoraAdapter(), new PluginOrigin("classpath", "1.0.0", -1, "test"));
        return r;
    }

    /** Runs a job on the calling thread, probing the model at load and at the end. */
    static TrainingResult train(Map<String, String> params, Probe probe) throws IOException {
        return train(params, probe, quiet(), () -> false);
    }

    /** Runs a job with a listener and a cancel poll (a poll that throws kills the job mid-run). */
    static TrainingResult train(Map<String, String> params, Probe probe, TrainingListener listener,
                                java.util.function.BooleanSupplier cancelled) throws IOException {
        PluginRegistry registry = registry();
        JobConfig job = new JobConfigLoader(id -> ((KohyaLoraTraining) registry.select(PluginKind.TRAINING_METHOD, id)
                .plugin()).parameters()).load(null, "lora/kohya", params);
        DiffusionModelLoader probing = SdDiffusionModelLoader.wrapping("probing", model -> {
            evaluate(model, probe, true);
            return new Probed(model, probe);
        });
        try (NDManager m = RUNTIME.newManager()) {
            return new Trainer(job, registry, new DiffusionModels(List.of(probing)), m).run(listener, cancelled);
        }
    }

    static TrainingListener quiet() {
        return new TrainingListener() {
        };
    }

    /** Fixed evaluation latents, noise, timesteps and captions: the prediction and its ε-MSE. */
    static void evaluate(SdDiffusionModel model, Probe probe, boolean atLoad) {
        try (NDManager m = model.model().manager().newSubManager()) {
            Random r = new Random(99);
            int n = 4;
            float[] latents = new float[n * 4 * 16 * 16];
            float[] noise = new float[latents.length];
            for (int i = 0; i < latents.length; i++) {
                latents[i] = (float) (r.nextGaussian() * 0.8);
                noise[i] = (float) r.nextGaussian();
            }
            NDArray x0 = m.create(latents, new Shape(n, 4, 16, 16));
            NDArray eps = m.create(noise, new Shape(n, 4, 16, 16));
            NDArray ts = m.create(new long[] {50, 250, 500, 800});
            NDArray noisy = new NoiseSchedule(m, "epsilon").addNoise(x0, eps, ts);
            NDArray context = model.encodeText(List.of("a red square", "a blue square", "a red square", "a blue square"));
            NDArray pred = model.predict(noisy, ts, context);
            pred.attach(m);
            context.attach(m);
            double loss = pred.sub(eps).square().mean().getFloat();
            Map<String, float[]> frozen = new LinkedHashMap<>();
            for (Layer l : model.model().allLayers()) {
                frozen.put(l.ldmName(), l.weight().toFloatArray());
            }
            if (atLoad) {
                probe.basePrediction = pred.toFloatArray();
                probe.baseLoss = loss;
                probe.frozenAtLoad = frozen;
            } else {
                probe.finalPrediction = pred.toFloatArray();
                probe.finalLoss = loss;
                probe.frozenAtEnd = frozen;
            }
        }
    }

    /** The real model, evaluated once more (with the trained hooks) when the job closes it. */
    private static final class Probed extends ForwardingDiffusionModel {
        private final SdDiffusionModel model;
        private final Probe probe;

        Probed(SdDiffusionModel model, Probe probe) {
            super(model);
            this.model = model;
            this.probe = probe;
        }

        @Override
        public void close() {
            evaluate(model, probe, false);
            model.close();
        }
    }

    static List<String> names(Map<String, ?> m) {
        return new ArrayList<>(m.keySet());
    }
}
