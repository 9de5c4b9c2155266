package dev.easel.core.train.loop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.training.TrainingMethod;
import dev.easel.api.training.TrainingSession;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginLease;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.train.config.EngineKeys;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.data.Seeds;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.DiffusionModels;
import dev.easel.core.train.model.ModelOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * The training loop every method runs in: loads the model, starts the method's session, prepares the data and
 * latent cache, then steps (noise and timesteps, the method's loss, backward, gradient accumulation, clipping,
 * learning-rate schedule, optimiser), logging, checkpointing, rendering previews and exporting the result.
 *
 * <p>Deterministic: every random draw derives from the job seed and the step/epoch/position counters, and DJL's
 * generator is reseeded before each step, so a run resumed from a state folder ends with the same tensors as an
 * uninterrupted one (bit-identical on CPU).
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JobConfig job;
    private final PluginRegistry registry;
    private final DiffusionModels models;
    private final NDManager parentManager;

    public Trainer(JobConfig job, PluginRegistry registry, DiffusionModels models, NDManager parentManager) {
        this.job = job;
        this.registry = registry;
        this.models = models;
        this.parentManager = parentManager;
    }

    /**
     * Runs the job on the calling thread.
     *
     * @param cancelled polled between steps; when it turns true the job saves its state and result and stops
     */
    public TrainingResult run(TrainingListener listener, BooleanSupplier cancelled) throws IOException {
        Autograd.disableOnThisThread();
        var e = job.engine();
        long seed = e.getLong("seed") == EngineKeys.RANDOM_SEED ? new SecureRandom().nextLong() & Long.MAX_VALUE
                : e.getLong("seed");
        Path outputDir = job.outputDir();
        Files.createDirectories(outputDir);
        Path stateRoot = outputDir.resolve("state");
        Path resumeFrom = resumeFolder(stateRoot);
        job.warnings().forEach(listener::warning);
        if (resumeFrom != null) {
            seed = readSeed(resumeFrom);
            changedSince(resumeFrom).forEach(listener::warning);
        }
        listener.phase("loading");
        try (NDManager manager = parentManager.newSubManager();
             PluginLease<TrainingMethod> lease = registry.lease(PluginKind.TRAINING_METHOD, job.methodId(),
                     TrainingMethod.class)) {
            ModelOptions modelOptions = new ModelOptions(e.getInt("clip_skip"), e.getInt("max_token_length"),
                    e.getBoolean("v_parameterization"), e.getString("mixed_precision"));
            try (DiffusionModel model = models.load(e.getString("pretrained_model_name_or_path"), modelOptions,
                    manager)) {
                String prediction = e.getBoolean("v_parameterization") ? "v_prediction" : model.predictionType();
                NoiseSchedule schedule = new NoiseSchedule(manager, prediction);
                NDScope.unregister(schedule.alphasCumprod());
                LossOptions lossOptions = LossOptions.of(job);
                if (prediction.equals("v_prediction") && !lossOptions.vPrediction()) {
                    lossOptions = lossOptions.withVPrediction();
                }
                Engine.getInstance().setRandomSeed((int) Seeds.mix(seed, -1));
                try (EngineTrainingContext context = new EngineTrainingContext(manager, seed, model.hooks(), schedule,
                        registry);
                     TrainingSession session = lease.get().start(context, job.method())) {
                    return new TrainingRun(job, registry, lease, model, schedule, lossOptions, session, manager, seed, outputDir,
                            stateRoot, listener, cancelled).go(resumeFrom);
                }
            }
        }
    }

    private Path resumeFolder(Path stateRoot) throws IOException {
        String resume = job.text("resume");
        if (resume == null) {
            return null;
        }
        Path folder = resume.equals("latest") ? Checkpoints.latest(stateRoot) : Path.of(resume).toAbsolutePath();
        if (folder == null) {
            return null;
        }
        if (!Files.isRegularFile(folder.resolve("state.json"))) {
            throw new IOException(job.source() + ": resume folder " + folder + " is not an Easel state folder");
        }
        return folder;
    }

    /** Keys whose value differs from the config the state was written with: a resume is exact only without any. */
    private List<String> changedSince(Path folder) throws IOException {
        JsonNode saved = JSON.readTree(folder.resolve("state.json").toFile()).path("config");
        JsonNode now = JSON.valueToTree(job.raw());
        Set<String> keys = new TreeSet<>();
        saved.fieldNames().forEachRemaining(keys::add);
        now.fieldNames().forEachRemaining(keys::add);
        keys.removeAll(Set.of("resume", "output_dir", "latent_cache_dir"));
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            JsonNode a = saved.get(k);
            JsonNode b = now.get(k);
            if (a == null || b == null || !a.asText().equals(b.asText())) {
                out.add(job.source() + ": resuming from " + folder + " with '" + k + "' changed (" + text(a) + " -> "
                        + text(b) + "); the run will not repeat an uninterrupted one exactly");
            }
        }
        return out;
    }

    private static String text(JsonNode n) {
        return n == null ? "unset" : n.isTextual() ? n.textValue() : n.toString();
    }

    private static long readSeed(Path folder) throws IOException {
        return JSON.readTree(folder.resolve("state.json").toFile()).path("seed").asLong();
    }
}
