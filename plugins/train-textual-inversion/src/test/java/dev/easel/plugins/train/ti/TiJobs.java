package dev.easel.plugins.train.ti;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.training.NetworkHooks;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginOrigin;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.train.SdDiffusionModel;
import dev.easel.core.sd.train.SdDiffusionModelLoader;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.config.JobConfigLoader;
import dev.easel.core.train.loop.Trainer;
import dev.easel.core.train.loop.TrainingListener;
import dev.easel.core.train.loop.TrainingResult;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.ForwardingDiffusionModel;
import dev.easel.core.train.model.DiffusionModelLoader;
import dev.easel.core.train.model.DiffusionModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

/** The random tiny SD model, a tiny dataset, the wiring of a textual-inversion job and what the tests probe. */
final class TiJobs {
    static final ComputeRuntime RUNTIME = new ComputeRuntime().start();

    private TiJobs() {
    }

    /** Every weight of the model at load and at the end of the job, and the word's rows at the end. */
    static final class Probe {
        final Map<String, float[]> atLoad = new LinkedHashMap<>();
        final Map<String, float[]> atEnd = new LinkedHashMap<>();
        int vocab;
        float[] initRows;
        float[] finalRows;
    }

    static Path tinyModel(Path dir) throws IOException {
        return RandomModels.write("tiny", 7, dir.resolve("tiny.safetensors")).model();
    }

    /** 64x64 PNGs of smooth colour fields with captions. */
    static Path images(Path dir, int count, String captionWord) throws IOException {
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
            Files.writeString(dir.resolve("img" + i + ".txt"), "a " + captionWord + ", " + (i % 2 == 0 ? "red"
                    : "blue"));
        }
        return dir;
    }

    static Map<String, String> params(Path model, Path data, Path out) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("pretrained_model_name_or_path", model.toString());
        p.put("train_data_dir", data.toString());
        p.put("output_dir", out.toString());
        p.put("caption_extension", ".txt");
        p.put("resolution", "32");
        p.put("latent_cache_dir", out.resolveSibling("cache").toString());
        p.put("seed", "42");
        p.put("max_train_steps", "6");
        p.put("train_batch_size", "2");
        p.put("token_string", "zxq");
        p.put("init_word", "red square");
        p.put("num_vectors_per_token", "2");
        p.put("learning_rate", "0.01");
        p.put("save_state", "false");
        return p;
    }

    static PluginRegistry registry() {
        PluginRegistry r = new PluginRegistry();
        r.register(new TextualInversionTraining(), new PluginOrigin("classpath", "1.0.0", -1, "test"));
        return r;
    }

    static JobConfig job(Map<String, String> params) {
        PluginRegistry registry = registry();
        return new JobConfigLoader(id -> registry.select(PluginKind.TRAINING_METHOD, id).plugin().parameters())
                .load(null, null, params);
    }

    /** Runs a job on the calling thread, probing the model at load and when the job closes it. */
    static TrainingResult train(Map<String, String> params, Probe probe) throws IOException {
        return train(params, probe, new TrainingListener() {
        }, () -> false);
    }

    /** Runs a job with a listener and a cancel poll (a poll that throws kills the job mid-run). */
    static TrainingResult train(Map<String, String> params, Probe probe, TrainingListener listener,
                                java.util.function.BooleanSupplier cancelled) throws IOException {
        PluginRegistry registry = registry();
        JobConfig job = job(params);
        DiffusionModelLoader probing = SdDiffusionModelLoader.wrapping("probing", model -> {
            weights(model.model(), probe.atLoad);
            probe.vocab = (int) model.model().textEncoder().tokenEmbedding().weightShape()[0];
            return new Probed(model, probe, params.get("init_word"));
        });
        try (NDManager m = RUNTIME.newManager()) {
            return new Trainer(job, registry, new DiffusionModels(List.of(probing)), m).run(listener, cancelled);
        }
    }

    static void weights(SdModel model, Map<String, float[]> out) {
        for (Layer l : model.allLayers()) {
            out.put(l.ldmName(), l.weight().toFloatArray());
            if (l.bias() != null) {
                out.put(l.ldmName() + ".bias", l.bias().toFloatArray());
            }
        }
    }

    /** The rows a list of token ids looks up. */
    static float[] rows(SdModel model, int[] ids) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray idx = m.create(ids);
            NDArray rows = model.textEncoder().tokenEmbedding().forward(idx);
            rows.attach(m);
            return rows.toFloatArray();
        }
    }

    private static final class Probed extends ForwardingDiffusionModel {
        private final SdDiffusionModel model;
        private final Probe probe;
        private final String initWord;

        Probed(SdDiffusionModel model, Probe probe, String initWord) {
            super(model);
            this.model = model;
            this.probe = probe;
            this.initWord = initWord;
        }

        @Override
        public void close() {
            SdModel sd = model.model();
            weights(sd, probe.atEnd);
            int[] init = sd.tokenizer().encode(initWord == null ? "*" : initWord);
            probe.initRows = rows(sd, init);
            probe.finalRows = rows(sd, new int[] {probe.vocab, probe.vocab + 1});
            model.close();
        }
    }
}
