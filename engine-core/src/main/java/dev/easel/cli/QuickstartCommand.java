package dev.easel.cli;

import dev.easel.core.Easel;
import dev.easel.core.quickstart.Quickstart;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code easel quickstart}: the main job end to end on generated files, with a Markdown report. */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = {"Runs Easel's main job end to end on small generated models and writes a report:",
            "starts the engine and its plugins, generates two small SD1-architecture models, merges them,",
            "checks every merged value, inspects, extracts and bakes a LoRA, samples images, trains a LoRA with a",
            "kohya config, and writes OUT/report.md."})
public final class QuickstartCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "easel-quickstart",
            description = "Folder for the models and the report (default: ${DEFAULT-VALUE}).")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        try (Easel easel = engine.start(false)) {
            Path report = new Quickstart(easel, out, spec.commandLine().getOut(), EaselCli::run).run();
            spec.commandLine().getOut().println("report: " + report.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": " + e.getMessage(), e);
        }
    }
}
