package dev.easel.cli;

import dev.easel.core.Easel;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.job.TrainingJobQueue;
import dev.easel.core.train.loop.StepReport;
import dev.easel.core.train.loop.Trainer;
import dev.easel.core.train.loop.TrainingListener;
import dev.easel.core.train.loop.TrainingResult;
import dev.easel.core.train.model.DiffusionModels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code easel train}: runs one training job in the foreground. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a model with a training method (LoRA, textual inversion, ...).",
            "CONFIG is an Easel or kohya train_network.py config file (TOML or JSON); --param adds to or overrides"
                + " its keys, so a short job needs no file. Ctrl-C saves a resumable state and the result.",
            "Example: easel train --method lora/kohya --param pretrained_model_name_or_path=model.safetensors"
                + " --param train_data_dir=img --param output_dir=out"})
public final class TrainCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Parameters(paramLabel = "CONFIG", arity = "0..1", description = "The job config (.toml or .json).")
    Path config;

    @Option(names = "--method", paramLabel = "ID", description = "The training method (lora/kohya); overrides the"
            + " config's method or network_module.")
    String method;

    @Option(names = "--param", paramLabel = "KEY=VALUE", mapFallbackValue = "",
            description = "A config key; repeatable; overrides the file.")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--resume", paramLabel = "STATE", description = "Resume from a state folder, or 'latest'.")
    String resume;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (config == null && params.isEmpty() && method == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give a CONFIG file or --param keys");
        }
        Map<String, String> overrides = new LinkedHashMap<>(params);
        if (resume != null) {
            overrides.put("resume", resume);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Easel easel = engine.start(false)) {
            JobConfig job = TrainingJobQueue.loader(easel.registry()).load(config, method, overrides);
            AtomicBoolean cancel = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                cancel.set(true);
                try {
                    done.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "easel-train-interrupt");
            Runtime.getRuntime().addShutdownHook(hook);
            Progress progress = new Progress(err, quiet);
            TrainingResult result;
            try (var manager = easel.runtime().newManager()) {
                result = new Trainer(job, easel.registry(),
                        DiffusionModels.discover(TrainCommand.class.getClassLoader()), manager).run(progress, cancel::get);
            } finally {
                progress.close();
                done.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // shutting down already
                }
            }
            out.printf(Locale.ROOT, "%s %d steps, last loss %.5f%n", result.cancelled() ? "interrupted after"
                    : "trained", result.steps(), result.lastLoss());
            result.outputs().forEach(p -> out.println("wrote " + p));
            if (result.lastState() != null) {
                out.println("state " + result.lastState() + (result.cancelled() ? " (resume with --resume latest)"
                        : ""));
            }
            out.flush();
            return result.cancelled() ? EaselCli.EXIT_FAILURE : 0;
        }
    }

    /** Warnings and phases on stderr; a progress bar with loss and ETA while training. */
    private static final class Progress implements TrainingListener {
        private final PrintWriter err;
        private final boolean quiet;
        private ProgressBar bar;

        Progress(PrintWriter err, boolean quiet) {
            this.err = err;
            this.quiet = quiet;
        }

        @Override
        public void warning(String line) {
            err.println("warning: " + line);
            err.flush();
        }

        @Override
        public void phase(String phase) {
            if (phase.equals("caching") && !quiet) {
                err.println("caching latents ...");
                err.flush();
            }
        }

        @Override
        public void started(long step, long total) {
            if (!quiet) {
                bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(500).showSpeed().setUnit(" steps", 1).startsFrom(step,
                                java.time.Duration.ZERO).build();
            }
        }

        @Override
        public void step(StepReport r) {
            if (bar != null) {
                bar.stepTo(r.step());
                bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f avg %.4f", r.loss(), r.averageLoss()));
            }
        }

        void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
