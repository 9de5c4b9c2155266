package dev.easel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel dataset synth}, {@code check} and {@code eval --reconstruct} as a user runs them. */
class DatasetCliTest {
    @TempDir
    Path dir;

    @Test
    void synthWritesCaptionedImagesThatTheCheckRecognises() throws Exception {
        Path out = dir.resolve("10_cross");
        SdCommandsTest.Result r = SdCommandsTest.run("dataset", "synth", "--out", out.toString(), "--count", "12",
                "--seed", "3", "--shapes", "cross", "--colors", "red,blue,yellow");
        assertEquals(0, r.status(), r.err());
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(24, files.count());
        }
        String caption = Files.readString(out.resolve("00000.txt"));
        assertTrue(caption.matches("a (red|blue|yellow) cross on a (red|blue|yellow) background(, \\w+)?"), caption);

        Path[] pngs;
        try (Stream<Path> files = Files.list(out)) {
            pngs = files.filter(p -> p.toString().endsWith(".png")).sorted().toArray(Path[]::new);
        }
        String[] args = new String[2 + pngs.length];
        args[0] = "dataset";
        args[1] = "check";
        for (int i = 0; i < pngs.length; i++) {
            args[2 + i] = pngs[i].toString();
        }
        SdCommandsTest.Result check = SdCommandsTest.run(args);
        assertEquals(0, check.status(), check.err());
        assertTrue(check.out().contains("12 samples: colour 100%, background 100%, shape 100%"), check.out());

        SdCommandsTest.Result wrong = SdCommandsTest.run("dataset", "check", "--prompt",
                "a green circle on a purple background", pngs[0].toString());
        assertEquals(0, wrong.status(), wrong.err());
        assertTrue(wrong.out().contains("differs (colour) (shape) (background)"), wrong.out());
    }

    @Test
    void reconstructMeasuresEaselTinysVaeAgainstTheCheck() throws Exception {
        // Easel Tiny's VAE passes 70 % of 64 scenes through with colour and shape intact (docs/easel-tiny.md)
        SdCommandsTest.Result r = SdCommandsTest.run("dataset", "eval", "--reconstruct", "--count", "32", "-q");
        assertEquals(0, r.status(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("32 samples: colour (\\d+)%, background (\\d+)%, "
                + "shape (\\d+)%, colour and shape (\\d+)% \\(encoded and decoded").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Integer.parseInt(m.group(2)) >= 75, r.out());
        assertTrue(Integer.parseInt(m.group(3)) >= 75, r.out());
        assertTrue(Integer.parseInt(m.group(4)) >= 50, r.out());

        SdCommandsTest.Result both = SdCommandsTest.run("dataset", "eval", "--reconstruct", "--prompt",
                "a red circle on a blue background");
        assertEquals(2, both.status());
        assertTrue(both.err().contains("--reconstruct"), both.err());
    }

    @Test
    void badWordsAreUsageErrors() {
        SdCommandsTest.Result r = SdCommandsTest.run("dataset", "synth", "--out", dir.toString(), "--shapes",
                "hexagon");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--shapes: unknown word 'hexagon'"), r.err());
        SdCommandsTest.Result one = SdCommandsTest.run("dataset", "synth", "--out", dir.toString(), "--colors",
                "red");
        assertEquals(2, one.status());
    }
}
