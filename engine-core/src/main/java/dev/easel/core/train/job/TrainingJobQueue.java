package dev.easel.core.train.job;

import dev.easel.api.training.TrainingMethod;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.config.JobConfigLoader;
import dev.easel.core.train.loop.Trainer;
import dev.easel.core.train.loop.TrainingResult;
import dev.easel.core.train.model.DiffusionModels;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs training jobs one at a time on the engine's compute runtime (one device, one job: a second job waits in
 * line). Jobs are validated when submitted, so a bad config is refused at once rather than failing in the queue.
 */
@Singleton
public final class TrainingJobQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingJobQueue.class);

    private final PluginRegistry registry;
    private final ComputeRuntime runtime;
    private final DiffusionModels models;
    private final Map<String, TrainingJob> jobs = new LinkedHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "easel-train");
        t.setDaemon(true);
        return t;
    });

    @Inject
    public TrainingJobQueue(PluginRegistry registry, ComputeRuntime runtime) {
        this(registry, runtime, DiffusionModels.discover(TrainingJobQueue.class.getClassLoader()));
    }

    public TrainingJobQueue(PluginRegistry registry, ComputeRuntime runtime, DiffusionModels models) {
        this.registry = registry;
        this.runtime = runtime;
        this.models = models;
    }

    /** The config loader that resolves methods among the installed plugins. */
    public JobConfigLoader loader() {
        return loader(registry);
    }

    private static java.nio.file.Path home() {
        String h = System.getProperty("easel.home");
        return h == null ? null : java.nio.file.Path.of(h);
    }

    /** A config loader over a registry's training methods; jobs that name no model train Easel Tiny. */
    public static JobConfigLoader loader(PluginRegistry registry) {
        return new JobConfigLoader(id -> ((TrainingMethod) registry.select(PluginKind.TRAINING_METHOD, id).plugin())
                .parameters(), () -> dev.easel.core.sd.model.EaselTiny.locate(home()).map(java.nio.file.Path::toString));
    }

    /** The model loaders this engine has. */
    public DiffusionModels models() {
        return models;
    }

    /** Queues a validated job. */
    public synchronized TrainingJob submit(JobConfig config) {
        String id = UUID.randomUUID().toString().substring(0, 8);
        TrainingJob job = new TrainingJob(id, config);
        config.warnings().forEach(job::warning);
        jobs.put(id, job);
        worker.submit(() -> run(job));
        return job;
    }

    private void run(TrainingJob job) {
        if (job.cancelRequested()) {
            job.transition(JobState.CANCELLED, null);
            return;
        }
        job.transition(JobState.RUNNING, null);
        try (var manager = runtime.start().newManager()) {
            TrainingResult r = new Trainer(job.config(), registry, models, manager).run(job, job::cancelRequested);
            job.transition(r.cancelled() ? JobState.CANCELLED : JobState.SUCCEEDED, null);
        } catch (Exception | Error e) {
            LOG.warn("training job {} failed: {}", job.id(), e.toString());
            job.transition(JobState.FAILED, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** A job by id. */
    public synchronized Optional<TrainingJob> get(String id) {
        return Optional.ofNullable(jobs.get(id));
    }

    /** Every job, oldest first. */
    public synchronized List<TrainingJob> list() {
        return new ArrayList<>(jobs.values());
    }

    /**
     * Asks a job to stop: a queued job never starts; a running one stops after its current step, saving its state
     * and result.
     */
    public Optional<TrainingJob> cancel(String id) {
        Optional<TrainingJob> job = get(id);
        job.ifPresent(j -> {
            j.requestCancel();
            synchronized (j) {
                if (j.state() == JobState.QUEUED) {
                    j.transition(JobState.CANCELLED, null);
                }
            }
        });
        return job;
    }

    @Override
    public void close() {
        list().forEach(j -> j.requestCancel());
        worker.shutdown();
        try {
            worker.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
