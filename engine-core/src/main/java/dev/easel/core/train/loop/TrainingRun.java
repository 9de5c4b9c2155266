package dev.easel.core.train.loop;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.training.DatasetRole;
import dev.easel.api.training.ParameterGroup;
import dev.easel.api.training.TrainingMethod;
import dev.easel.api.training.TrainingSession;
import dev.easel.core.BuildInfo;
import dev.easel.core.plugin.PluginLease;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.TorchOwned;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.data.Batch;
import dev.easel.core.train.data.DatasetConfigs;
import dev.easel.core.train.data.DatasetSpec;
import dev.easel.core.train.data.LatentCache;
import dev.easel.core.train.data.LoadedBatch;
import dev.easel.core.train.data.Seeds;
import dev.easel.core.train.data.TrainingData;
import dev.easel.core.train.model.DiffusionModel;
import dev.easel.core.train.model.PreviewSampler;
import dev.easel.core.train.model.SamplePrompt;
import dev.easel.core.train.model.SamplePromptFile;
import dev.easel.core.train.optim.Gradients;
import dev.easel.core.train.optim.LrSchedule;
import dev.easel.core.train.optim.Optimizer;
import dev.easel.core.train.optim.Optimizers;
import dev.easel.core.train.optim.StepwiseLearningRate;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;

/**
 * One job after its model is loaded and its method's session started: data preparation, the step loop,
 * checkpoints, previews and the export. Package-private; {@link Trainer} sets it up.
 */
final class TrainingRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JobConfig job;
    private final PluginRegistry registry;
    private final PluginLease<TrainingMethod> lease;
    private final DiffusionModel model;
    private final NoiseSchedule schedule;
    private final LossOptions lossOptions;
    private final TrainingSession session;
    private final NDManager manager;
    private final long seed;
    private final Path outputDir;
    private final Path stateRoot;
    private final TrainingListener listener;
    private final BooleanSupplier cancelled;
    private final List<ParameterGroup> groups;
    private final List<NDArray> allParams = new ArrayList<>();
    private TrainingData data;
    private Optimizer optimizer;
    private LrSchedule lrSchedule;
    private long step;
    private int epoch;
    private int position;
    private List<Batch> batches;
    private Path lastState;
    private boolean warnedSampler;

    TrainingRun(JobConfig job, PluginRegistry registry, PluginLease<TrainingMethod> lease, DiffusionModel model, NoiseSchedule schedule,
        LossOptions lossOptions, TrainingSession session, NDManager manager, long seed, Path outputDir,
        Path stateRoot, TrainingListener listener, BooleanSupplier cancelled) {
        this.job = job;
        this.registry = registry;
        this.lease = lease;
        this.model = model;
        this.schedule = schedule;
        this.lossOptions = lossOptions;
        this.session = session;
        this.manager = manager;
        this.seed = seed;
        this.outputDir = outputDir;
        this.stateRoot = stateRoot;
        this.listener = listener;
        this.cancelled = cancelled;
        this.groups = session.parameterGroups();
    }

    TrainingResult go(Path resumeFrom) throws IOException {
        var e = job.engine();
        for (ParameterGroup g : groups) {
            for (NDArray t : g.tensors()) {
                t.setRequiresGradient(true);
                allParams.add(t);
            }
        }
        if (allParams.isEmpty()) {
            throw new IOException(job.source() + ": method '" + job.methodId() + "' has nothing to train with"
                    + " these parameters");
        }
        listener.phase("caching");
        List<DatasetSpec> datasets = DatasetConfigs.of(job, listener::warning);
        List<DatasetRole> roles = session.datasetRoles();
        boolean includeReg = roles.contains(DatasetRole.CLASS) || roles.contains(DatasetRole.REGULARIZATION);
        DatasetRole regRole = roles.contains(DatasetRole.CLASS) ? DatasetRole.CLASS : DatasetRole.REGULARIZATION;
        Path cacheDir = job.path("latent_cache_dir") != null ? job.path("latent_cache_dir")
                : LatentCache.defaultDir();
        data = TrainingData.prepare(datasets, model, new LatentCache(cacheDir, model.vaeIdentity()), includeReg,
                e.getInt("vae_batch_size"), manager, listener::warning, listener::caching);

        int accumulation = e.getInt("gradient_accumulation_steps");
        int batchesPerEpoch = data.epoch(seed, 0).size();
        long stepsPerEpoch = Math.max(1, (batchesPerEpoch + accumulation - 1) / accumulation);
        long total = e.getLong("max_train_epochs") > 0 ? e.getLong("max_train_epochs") * stepsPerEpoch
                : e.getLong("max_train_steps");
        StepwiseLearningRate stepwise = StepwiseLearningRate.parse(e.getString("learning_rate"));
        total = Math.min(total, stepwise.endStep());
        lrSchedule = new LrSchedule(e.getString("lr_scheduler"), total, e.getDouble("lr_warmup_steps"),
                e.getInt("lr_scheduler_num_cycles"), e.getDouble("lr_scheduler_power"), stepwise);
        // Validated with its warnings when the config was loaded.
        optimizer = Optimizers.create(Optimizers.configuredType(e), e.getString("optimizer_args"), manager, w -> { });

        if (resumeFrom != null) {
            restore(resumeFrom);
        }
        batches = data.epoch(seed, epoch);
        Path logFile = outputDir.resolve(job.outputName() + ".log.jsonl");
        List<Double> recent = new ArrayList<>();
        double lastLoss = Double.NaN;
        listener.phase("training");
        listener.started(step, total);
        if (e.getBoolean("sample_at_first") && step == 0) {
            sample();
        }
        boolean stopped = false;
        try (TrainingLog log = TrainingLog.open(logFile, step)) {
            while (step < total && !session.finished()) {
                if (cancelled.getAsBoolean()) {
                    stopped = true;
                    break;
                }
                int epochBefore = epoch;
                double[] lrs = new double[groups.size()];
                double loss;
                double norm;
                long dataNs = 0;
                long computeNs = 0;
                long updateNs;
                // Activations go to the manager of the step's inputs, and networks that free finished blocks early
                // move their results out of every NDScope: only closing the step's own manager frees them all.
                try (NDScope scope = new NDScope(); NDManager work = manager.newSubManager()) {
                    model.stepManager(work);
                    long stepSeed = Seeds.mix(seed, step, 5);
                    Engine.getInstance().setRandomSeed((int) stepSeed);
                    double lossSum = 0;
                    EngineTrainingStep last = null;
                    for (int micro = 0; micro < accumulation; micro++) {
                        long t0 = System.nanoTime();
                        LoadedBatch b = data.load(batches.get(position), seed, epoch, position, work);
                        List<DatasetRole> batchRoles = b.reg().stream()
                                .map(r -> r ? regRole : DatasetRole.INSTANCE).toList();
                        Shape s = b.latents().getShape();
                        float[] x0 = lossOptions.adaptiveNoiseScale() != 0 ? b.latents().toFloatArray() : null;
                        StepNoise draws = StepNoise.draw(Seeds.mix(seed, step, micro, 4), lossOptions, x0,
                                (int) s.get(0), (int) s.get(1), (int) s.get(2), (int) s.get(3));
                        last = new EngineTrainingStep(step, stepSeed, b.latents(), b.captions(), batchRoles,
                                b.reg(), draws, model, schedule, lossOptions);
                        long t1 = System.nanoTime();
                        dataNs += t1 - t0;
                        model.setTraining(true);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray l = session.loss(last);
                            lossSum += l.getFloat();
                            try {
                                gc.backward(accumulation == 1 ? l : TorchOwned.div(l, accumulation));
                            } catch (ai.djl.engine.EngineException ex) {
                                // nothing trained reached this loss (module_dropout may drop every module of a
                                // step): its gradient is zero, where kohya's backward would fail
                                if (!String.valueOf(ex.getMessage()).contains("does not require grad")) {
                                    throw ex;
                                }
                            }
                        } finally {
                            model.setTraining(false);
                        }
                        computeNs += System.nanoTime() - t1;
                        advance();
                    }
                    loss = lossSum / accumulation;
                    long t2 = System.nanoTime();
                    norm = Gradients.clip(allParams, e.getDouble("max_grad_norm"));
                    double factor = lrSchedule.factor(step);
                    List<List<NDArray>> tensors = new ArrayList<>();
                    for (int g = 0; g < groups.size(); g++) {
                        ParameterGroup group = groups.get(g);
                        lrs[g] = session.learningRate(group, step, group.learningRate() * factor);
                        tensors.add(group.tensors());
                    }
                    if (Double.isFinite(loss) && Double.isFinite(norm)) {
                        optimizer.step(tensors, lrs);
                    } else if (!Double.isFinite(loss)) {
                        listener.warning("step " + (step + 1) + ": loss is " + loss + "; update skipped");
                    } else {
                        listener.warning("step " + (step + 1) + ": gradient norm is " + norm + "; update skipped");
                    }
                    Gradients.zero(allParams);
                    session.afterStep(last);
                    updateNs = System.nanoTime() - t2;
                } finally {
                    model.stepManager(null);
                }
                step++;
                lastLoss = loss;
                recent.add(loss);
                if (recent.size() > 100) {
                    recent.remove(0);
                }
                Map<String, Double> rates = new LinkedHashMap<>();
                for (int g = 0; g < groups.size(); g++) {
                    rates.put(groups.get(g).name(), lrs[g]);
                }
                StepTimings timings = new StepTimings(dataNs / 1e9, computeNs / 1e9, updateNs / 1e9);
                log.step(step, epochBefore, loss, rates, norm, timings);
                listener.step(new StepReport(step, total, epochBefore, loss,
                        recent.stream().mapToDouble(Double::doubleValue).average().orElse(loss), rates, norm,
                        timings));
                boolean epochEnded = epoch != epochBefore;
                boolean end = step >= total || session.finished();
                long everySteps = e.getLong("save_every_n_steps");
                long everyEpochs = e.getLong("save_every_n_epochs");
                boolean byEpoch = everyEpochs > 0 && epochEnded && epoch % everyEpochs == 0;
                if (!end && ((everySteps > 0 && step % everySteps == 0) || byEpoch)) {
                    checkpoint(total, byEpoch);
                }
                long sampleSteps = e.getLong("sample_every_n_steps");
                long sampleEpochs = e.getLong("sample_every_n_epochs");
                if ((sampleSteps > 0 && step % sampleSteps == 0)
                        || (sampleEpochs > 0 && epochEnded && epoch % sampleEpochs == 0)) {
                    sample();
                }
            }
        }
        listener.phase("saving");
        List<Path> outputs = export(job.outputName());
        if (e.getBoolean("save_state") || stopped) {
            lastState = Checkpoints.save(stateRoot, state(total), trainableTensors(), optimizer.state(),
                    session.state());
            listener.output(lastState);
            Checkpoints.prune(stateRoot, keepCount());
        }
        LossCurve.write(outputDir.resolve(job.outputName() + ".loss.png"), TrainingLog.losses(logFile));
        listener.output(outputDir.resolve(job.outputName() + ".loss.png"));
        return new TrainingResult(step, lastLoss, outputs, lastState, stopped);
    }

    private void advance() {
        position++;
        if (position >= batches.size()) {
            epoch++;
            position = 0;
            batches = data.epoch(seed, epoch);
        }
    }

    private int keepCount() {
        var e = job.engine();
        if (e.getLong("keep_last_n_checkpoints") > 0) {
            return e.getInt("keep_last_n_checkpoints");
        }
        long every = e.getLong("save_every_n_steps");
        long lastN = e.getLong("save_last_n_steps_state") > 0 ? e.getLong("save_last_n_steps_state")
                : e.getLong("save_last_n_steps");
        if (lastN > 0 && every > 0) {
            return (int) Math.max(1, (lastN + every - 1) / every);
        }
        return 0;
    }

    /** Writes a step (or, as kohya names them, epoch) result and a state folder; prunes older ones. */
    private void checkpoint(long total, boolean byEpoch) throws IOException {
        listener.phase("saving");
        String name = byEpoch ? String.format("%s-%06d", job.outputName(), epoch)
                : String.format("%s-step%08d", job.outputName(), step);
        export(name);
        int keep = keepCount();
        Checkpoints.pruneResults(outputDir, job.outputName(), keep);
        if (job.engine().getBoolean("save_state")) {
            lastState = Checkpoints.save(stateRoot, state(total), trainableTensors(), optimizer.state(),
                    session.state());
            listener.output(lastState);
            Checkpoints.prune(stateRoot, keep);
        }
        listener.phase("training");
    }

    private List<Path> export(String name) throws IOException {
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("easel_version", BuildInfo.easelVersion());
        provenance.put("easel_method", lease.record().id() + " " + lease.record().version());
        provenance.put("easel_base_model", job.engine().getString("pretrained_model_name_or_path"));
        provenance.put("easel_seed", Long.toString(seed));
        provenance.put("easel_steps", Long.toString(step));
        provenance.put("easel_epoch", Integer.toString(epoch));
        String comment = job.text("training_comment");
        if (comment != null) {
            provenance.put("easel_training_comment", comment);
        }
        provenance.put("easel_config", JSON.writeValueAsString(job.raw()));
        provenance.putAll(model.provenance());
        OutputFolderExport export = new OutputFolderExport(outputDir, name, provenance, registry);
        try {
            session.export(export);
        } catch (IOException | RuntimeException ex) {
            for (Path p : export.written()) {
                Files.deleteIfExists(p);
            }
            throw ex;
        }
        export.written().forEach(listener::output);
        return export.written();
    }

    private void sample() throws IOException {
        String promptsFile = job.text("sample_prompts");
        if (promptsFile == null) {
            return;
        }
        PreviewSampler sampler = model.sampler().orElse(null);
        if (sampler == null) {
            if (!warnedSampler) {
                warnedSampler = true;
                listener.warning(job.source() + ": sample_prompts set, but the model cannot render previews"
                        + " (no sampler installed); training continues without them");
            }
            return;
        }
        List<SamplePrompt> prompts = SamplePromptFile.read(Path.of(promptsFile), job.engine()
                .getString("sample_sampler"));
        Path dir = outputDir.resolve("sample");
        Files.createDirectories(dir);
        for (int i = 0; i < prompts.size(); i++) {
            SamplePrompt p = prompts.get(i);
            long s = p.seed() >= 0 ? p.seed() : Seeds.mix(seed, i, 6) & 0x7FFFFFFFL;
            SamplePrompt seeded = new SamplePrompt(p.prompt(), p.negativePrompt(), p.width(), p.height(), s,
                    p.cfgScale(), p.steps(), p.sampler());
            BufferedImage img;
            try (NDScope scope = new NDScope()) {
                Engine.getInstance().setRandomSeed((int) s);
                img = sampler.render(seeded);
            }
            Path png = dir.resolve(String.format("%s_%06d_%02d_%d.png", job.outputName(), step, i, s));
            Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
            ImageIO.write(img, "png", tmp.toFile());
            Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            listener.output(png);
        }
    }

    private TrainingState state(long total) {
        List<Map<String, Object>> g = new ArrayList<>();
        for (ParameterGroup group : groups) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", group.name());
            m.put("tensors", group.tensors().size());
            g.add(m);
        }
        return new TrainingState(TrainingState.FORMAT, step, epoch, position, seed, total,
                lease.record().id() + " " + lease.record().version(), g, job.raw());
    }

    private Map<String, NDArray> trainableTensors() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            List<NDArray> t = groups.get(g).tensors();
            for (int i = 0; i < t.size(); i++) {
                out.put("g" + g + ".p" + i, t.get(i));
            }
        }
        return out;
    }

    private void restore(Path folder) throws IOException {
        Checkpoints.Loaded loaded;
        try (NDScope scope = new NDScope()) {
            loaded = Checkpoints.load(folder, manager);
            TrainingState s = loaded.state();
            if (s.groups().size() != groups.size()) {
                throw new IOException(folder + ": state has " + s.groups().size() + " parameter groups, the"
                        + " method now has " + groups.size() + " (different method parameters?)");
            }
            for (int g = 0; g < groups.size(); g++) {
                List<NDArray> t = groups.get(g).tensors();
                for (int i = 0; i < t.size(); i++) {
                    NDArray saved = loaded.trainable().get("g" + g + ".p" + i);
                    if (saved == null || !saved.getShape().equals(t.get(i).getShape())) {
                        throw new IOException(folder + ": tensor " + i + " of group '" + groups.get(g).name()
                                + "' does not match the state (different network parameters?)");
                    }
                    t.get(i).set(saved.toByteBuffer());
                }
            }
            Map<String, NDArray> opt = new LinkedHashMap<>(loaded.optimizer());
            optimizer.restore(opt);
            session.restore(keep(loaded.method()));
            step = s.step();
            epoch = s.epoch();
            position = s.position();
        }
        lastState = folder;
    }

    private static Map<String, NDArray> keep(Map<String, NDArray> arrays) {
        arrays.values().forEach(NDScope::unregister);
        return arrays;
    }
}
