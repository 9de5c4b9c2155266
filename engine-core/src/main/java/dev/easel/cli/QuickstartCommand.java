package dev.easel.cli;

import dev.easel.core.Easel;
import dev.easel.core.quickstart.Quickstart;
import dev.easel.core.sd.model.EaselTiny;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel quickstart}: the main job end to end on generated files, with a Markdown report. */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = {"Runs Easel's main job end to end on Easel Tiny and writes a report: samples a grid and checks",
            "it, trains a kohya LoRA on a shape the model never saw, samples with it, bakes it, merges the baked",
            "model with Easel Tiny (every merged value checked), extracts a LoRA back, and writes OUT/report.md",
            "with the images and the loss curve. A few minutes on two CPU cores."})
public final class QuickstartCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "easel-quickstart",
            description = "Folder for the models and the report (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--lora-steps", paramLabel = "N", defaultValue = "300",
            description = "LoRA training steps (default: ${DEFAULT-VALUE}).")
    int loraSteps;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "16",
            description = "Samples per measured rate (default: ${DEFAULT-VALUE}).")
    int samples;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        try (Easel easel = engine.start(false)) {
            Path tiny = EaselTiny.require(engine.home());
            Path report = new Quickstart(easel, out, tiny, new Quickstart.Settings(loraSteps, samples),
                    spec.commandLine().getOut(), EaselCli::run).run();
            spec.commandLine().getOut().println("report: " + report.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": " + e.getMessage(), e);
        }
    }
}
