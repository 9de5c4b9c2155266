package dev.easel.cli;

import dev.easel.core.synth.ShapeCheck;
import dev.easel.core.synth.ShapePrompt;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code easel dataset check}: the pixel-statistics check of images against their prompts. */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Says what each image shows (shape colour, shape, background) from pixel statistics and "
                + "whether that matches its prompt: --prompt, else the caption NAME.txt beside the image.",
            "  easel dataset check --prompt \"a red circle on a blue background\" out/*.png"})
public final class DatasetCheckCommand implements Runnable {
    @Option(names = "--prompt", paramLabel = "P", description = "What every image should show.")
    String prompt;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Images to check.")
    List<Path> images;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter o = spec.commandLine().getOut();
        ShapeCheck.Tally tally = new ShapeCheck.Tally();
        for (Path image : images) {
            String text = prompt != null ? prompt : caption(image);
            ShapePrompt expected = ShapePrompt.parse(text).orElseThrow(() -> new IllegalArgumentException(
                    image + ": prompt '" + text + "' has no \"COLOR SHAPE on a COLOR background\" phrase"));
            BufferedImage img;
            try {
                img = ImageIO.read(image.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(image + ": " + e.getMessage(), e);
            }
            if (img == null) {
                throw new IllegalArgumentException(image + ": not an image ImageIO can read");
            }
            ShapeCheck.Verdict v = ShapeCheck.check(img, expected);
            tally.add(v);
            o.printf(Locale.ROOT, "%s: %s -> %s%n", image, v.seen(), v.adheres() ? "matches" : "differs"
                    + (v.colorRight() ? "" : " (colour)") + (v.shapeRight() ? "" : " (shape)")
                    + (v.backgroundRight() ? "" : " (background)"));
        }
        o.println(tally);
        o.flush();
    }

    private static String caption(Path image) {
        String n = image.getFileName().toString();
        int dot = n.lastIndexOf('.');
        Path txt = image.resolveSibling((dot > 0 ? n.substring(0, dot) : n) + ".txt");
        try {
            return Files.readString(txt).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(image + ": no --prompt and no caption " + txt.getFileName(), e);
        }
    }
}
