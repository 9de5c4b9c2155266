package dev.easel.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.cli.SdCommandsTest.Result;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code easel sample --embedding} with files torch wrote in each layout (engine-core/src/test/fixtures/
 * make_embedding_fixtures.py): the same vectors give the same image whatever the file's layout and word, and a
 * different one from the prompt without the embedding.
 */
class SampleEmbeddingTest {
    private static final Path DIR = Path.of("src/test/resources/formats/embeddings");

    @TempDir
    Path dir;
    Path model;

    @BeforeEach
    void model() {
        model = dir.resolve("tiny.safetensors");
        assertEquals(0, SdCommandsTest.run("init-model", "--config", "tiny", "--seed", "3", "--out",
                model.toString()).status());
    }

    private Result sample(String prompt, Path out, String... embeddings) {
        List<String> args = new ArrayList<>(List.of("sample", "-q", "--model", model.toString(), "--prompt", prompt,
                "--steps", "3", "--sampler", "ddim", "--seed", "5", "--width", "16", "--height", "16", "--out",
                out.toString()));
        for (String e : embeddings) {
            args.add("--embedding");
            args.add(DIR.resolve(e).toString());
        }
        return SdCommandsTest.run(args.toArray(new String[0]));
    }

    private static int[] pixels(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test
    void everyLayoutOfTheSameVectorsDrawsTheSameImage() throws Exception {
        Path a1111 = dir.resolve("a1111.png");
        Result r = sample("a photo of tinyconcept, red", a1111, "tinyconcept.pt");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        String info = SdCommandsTest.pngText(a1111, "parameters");
        assertTrue(info.matches("(?s).*TI hashes: \"tinyconcept: [0-9a-f]{12}\".*"), info);

        Path diffusers = dir.resolve("diffusers.png");
        assertEquals(0, sample("a photo of <tiny-concept>, red", diffusers, "tiny-diffusers.bin").status());
        Path byFileName = dir.resolve("byname.png");
        assertEquals(0, sample("a photo of tiny-diffusers, red", byFileName, "tiny-diffusers.bin").status());
        Path kohya = dir.resolve("kohya.png");
        assertEquals(0, sample("a photo of tiny-kohya, red", kohya, "tiny-kohya.safetensors").status());
        assertArrayEquals(pixels(a1111), pixels(diffusers));
        assertArrayEquals(pixels(a1111), pixels(byFileName));
        assertArrayEquals(pixels(a1111), pixels(kohya));

        Path without = dir.resolve("without.png");
        assertEquals(0, sample("a photo of tinyconcept, red", without).status());
        assertFalse(java.util.Arrays.equals(pixels(a1111), pixels(without)));
    }

    @Test
    void badEmbeddingsFailWithOneLineNamingTheFile() {
        Result wide = sample("a my-style", dir.resolve("x.png"), "my-style.pt");
        assertEquals(1, wide.status());
        assertTrue(wide.err().startsWith("easel: " + DIR.resolve("my-style.pt") + ": embedding 'my-style' has vectors"
                + " of width 768, this model's text encoder has 32"), wide.err());
        Result sdxl = sample("a x", dir.resolve("x.png"), "sdxl-thing.safetensors");
        assertEquals(1, sdxl.status());
        assertTrue(sdxl.err().contains("sdxl-thing.safetensors: is an SDXL embedding"), sdxl.err());
        assertFalse(dir.resolve("x.png").toFile().exists());
        Result unused = sample("a photo", dir.resolve("y.png"), "tinyconcept.pt");
        assertEquals(0, unused.status());
        assertTrue(unused.err().contains("neither prompt uses the embedding's word tinyconcept"), unused.err());
    }
}
