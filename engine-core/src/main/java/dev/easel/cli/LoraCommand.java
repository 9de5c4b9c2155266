package dev.easel.cli;

import dev.easel.api.adapter.AdapterType;
import dev.easel.core.Easel;
import dev.easel.core.adapter.AdapterFile;
import dev.easel.core.format.ModelFormats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code easel lora}: inspect, bake, merge, resize, extract and convert LoRA-family adapters. */
@Command(name = "lora", mixinStandardHelpOptions = true,
        description = "Inspects, bakes, merges, resizes, extracts and converts LoRA-family adapters (see docs/adapters.md).",
        subcommands = {LoraInspectCommand.class, LoraBakeCommand.class, LoraMergeCommand.class, LoraResizeCommand.class,
            LoraExtractCommand.class, LoraConvertCommand.class})
public final class LoraCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The installed adapter types. */
    static List<AdapterType> types(Easel easel) {
        return easel.registry().services(AdapterType.class);
    }

    /** Opens an adapter file through the installed formats, naming the file in every error. */
    static AdapterFile openAdapter(Easel easel, Path file, String preferredType) {
        requireFile(file);
        try {
            return AdapterFile.open(ModelFormats.open(easel.registry(), file), types(easel), preferredType);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file");
        }
    }
}
