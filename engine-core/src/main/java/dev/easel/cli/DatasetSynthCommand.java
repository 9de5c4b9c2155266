package dev.easel.cli;

import dev.easel.core.synth.NamedColor;
import dev.easel.core.synth.ShapeKind;
import dev.easel.core.synth.ShapeScene;
import dev.easel.core.synth.SyntheticDataset;
import dev.easel.core.synth.Texture;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code easel dataset synth}: writes a seeded captioned set of coloured shapes. */
@Command(name = "synth", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a seeded set of coloured shapes on coloured backgrounds (NNNNN.png + NNNNN.txt "
                + "captions such as \"a red circle on a blue background, striped\"), the folder layout kohya and "
                + "easel train read.",
            "  easel dataset synth --out data/10_shapes --count 2000 --seed 1",
            "  easel dataset synth --out data/10_cross --count 16 --seed 7 --shapes cross --colors red,blue"})
public final class DatasetSynthCommand implements Runnable {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write (created if missing).")
    Path out;

    @Option(names = "--count", defaultValue = "100", paramLabel = "N", description = "Images (default: 100).")
    int count;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed (default: 0).")
    long seed;

    @Option(names = "--size", defaultValue = "64", paramLabel = "PX", description = "Image side (default: 64).")
    int size;

    @Option(names = "--shapes", split = ",", paramLabel = "LIST",
            description = "Shapes to draw from (default: circle,square,triangle; also diamond, cross, star).")
    List<String> shapes;

    @Option(names = "--colors", split = ",", paramLabel = "LIST",
            description = "Colours of shapes and backgrounds (default: all of red, orange, yellow, green, blue, "
                    + "purple, white, black).")
    List<String> colors;

    @Option(names = "--textures", split = ",", paramLabel = "LIST",
            description = "Background textures (default: plain,striped,dotted).")
    List<String> textures;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        SyntheticDataset base = SyntheticDataset.base();
        SyntheticDataset set;
        try {
            set = new SyntheticDataset(
                    words(shapes, "--shapes", ShapeKind::ofWord, base.shapes()),
                    words(colors, "--colors", NamedColor::ofWord, base.colors()),
                    words(textures, "--textures", Texture::ofWord, base.textures()));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (count < 1 || size < 8) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be at least 1 and --size at "
                    + "least 8");
        }
        long t0 = System.nanoTime();
        List<ShapeScene> scenes;
        try {
            scenes = set.write(out, count, seed, size);
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": " + e.getMessage(), e);
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "wrote %d images (%dx%d) with captions to %s in %.1f s; first: \"%s\"%n", scenes.size(),
                size, size, out, (System.nanoTime() - t0) / 1e9, scenes.get(0).caption());
        o.flush();
    }

    private <T> List<T> words(List<String> given, String option, Function<String, T> parse, List<T> fallback) {
        if (given == null || given.isEmpty()) {
            return fallback;
        }
        List<T> out = new ArrayList<>();
        for (String w : given) {
            T v = parse.apply(w.strip());
            if (v == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), option + ": unknown word '" + w + "'");
            }
            if (!out.contains(v)) {
                out.add(v);
            }
        }
        return out;
    }
}
