package dev.easel.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.ParameterSchema;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginOrigin;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.config.JobConfigLoader;
import dev.easel.core.train.loop.DiffusionLoss;
import dev.easel.core.train.loop.ElementLoss;
import dev.easel.core.train.loop.LossOptions;
import dev.easel.core.train.loop.NoiseSchedule;
import dev.easel.core.train.loop.Trainer;
import dev.easel.core.train.loop.TrainingListener;
import dev.easel.core.train.loop.TrainingResult;
import dev.easel.core.train.model.DiffusionModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;

/** Tiny datasets, the toy engine wiring, and the fixed evaluation set of the training tests. */
final class TrainFixtures {
    static final ComputeRuntime RUNTIME = new ComputeRuntime().start();

    private TrainFixtures() {
    }

    /** A registry with the toy method. */
    static PluginRegistry registry() {
        PluginRegistry r = new PluginRegistry();
        r.register(new ToyMethod(), new PluginOrigin("classpath", "1.0.0", -1, "test"));
        return r;
    }

    static JobConfigLoader loader(PluginRegistry registry) {
        return new JobConfigLoader(id -> ((ToyMethod) registry.select(PluginKind.TRAINING_METHOD, id).plugin())
                .parameters());
    }

    static ParameterSchema toySchema() {
        return new ToyMethod().parameters();
    }

    /** Writes {@code count} random-ish images of {@code w x h} with captions into a folder. */
    static Path images(Path dir, int count, int w, int h, String format, long seed) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(seed);
        for (int i = 0; i < count; i++) {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            int base = r.nextInt(0xFFFFFF);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    img.setRGB(x, y, (base + x * 2000 + y * 7 + r.nextInt(40)) & 0xFFFFFF);
                }
            }
            ImageIO.write(img, format, dir.resolve("img" + i + "." + format).toFile());
            Files.writeString(dir.resolve("img" + i + ".txt"), "toy " + (i % 2 == 0 ? "cat" : "dog") + ", red, blue");
        }
        return dir;
    }

    /** Base config of a tiny job. */
    static Map<String, String> params(Path data, Path out, Path cache) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("pretrained_model_name_or_path", "toy:1");
        p.put("train_data_dir", data.toString());
        p.put("output_dir", out.toString());
        p.put("output_name", "toy");
        p.put("resolution", "32");
        p.put("latent_cache_dir", cache.toString());
        p.put("seed", "1234");
        p.put("max_train_steps", "30");
        p.put("train_batch_size", "2");
        p.put("learning_rate", "0.02");
        p.put("optimizer_type", "AdamW");
        p.put("save_state", "true");
        return p;
    }

    static TrainingResult train(Map<String, String> params, TrainingListener listener, BooleanSupplier cancel)
            throws IOException {
        PluginRegistry registry = registry();
        JobConfig job = loader(registry).load(null, "toy/test", params);
        try (NDManager m = RUNTIME.newManager()) {
            return new Trainer(job, registry, new DiffusionModels(List.of(new ToyModelLoader())), m)
                    .run(listener, cancel);
        }
    }

    /** Mean loss of the model on a fixed set of latents, timesteps, noise and captions. */
    static double evalLoss(ToyDiffusionModel model, NDManager m) {
        Random r = new Random(99);
        int n = 8;
        float[] latents = new float[n * 4 * 4 * 4];
        float[] noise = new float[latents.length];
        for (int i = 0; i < latents.length; i++) {
            latents[i] = (float) r.nextGaussian();
            noise[i] = (float) r.nextGaussian();
        }
        long[] t = new long[n];
        List<String> captions = new ArrayList<>();
        List<Boolean> reg = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            t[i] = 50 + 120L * i;
            captions.add(i % 2 == 0 ? "toy cat" : "toy dog");
            reg.add(false);
        }
        NoiseSchedule schedule = new NoiseSchedule(m, "epsilon");
        LossOptions o = new LossOptions(false, ElementLoss.L2, 0, false, false, 1, 0, false, 0, 0, 0.3, 0, false, 0, 1000);
        NDArray x0 = m.create(latents, new Shape(n, 4, 4, 4));
        NDArray eps = m.create(noise, new Shape(n, 4, 4, 4));
        NDArray ts = m.create(t);
        NDArray pred = model.predict(schedule.addNoise(x0, eps, ts), ts, model.encodeText(captions));
        return DiffusionLoss.perSample(schedule, o, pred, x0, eps, ts, reg).mean().getFloat();
    }
}
