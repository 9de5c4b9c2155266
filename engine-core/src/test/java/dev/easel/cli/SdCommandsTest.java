package dev.easel.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.sd.ParityFixtures;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.NodeList;

/** {@code easel init-model}, {@code tokenize} and {@code sample} end to end, as a user runs them. */
class SdCommandsTest {
    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(status, out.toString(), err.toString());
    }

    static String pngText(Path png, String keyword) throws Exception {
        try (ImageInputStream in = ImageIO.createImageInputStream(png.toFile())) {
            ImageReader r = ImageIO.getImageReaders(in).next();
            r.setInput(in);
            IIOMetadataNode root = (IIOMetadataNode) r.getImageMetadata(0).getAsTree("javax_imageio_png_1.0");
            NodeList entries = root.getElementsByTagName("tEXtEntry");
            for (int i = 0; i < entries.getLength(); i++) {
                IIOMetadataNode e = (IIOMetadataNode) entries.item(i);
                if (e.getAttribute("keyword").equals(keyword)) {
                    return e.getAttribute("value");
                }
            }
        }
        return null;
    }

    @Test
    void tokenizePrintsIds() throws Exception {
        Result raw = run("tokenize", "--raw", "a photo of a cat");
        assertEquals(0, raw.status(), raw.err());
        assertEquals("320 1125 539 320 2368", raw.out().trim());
        Result framed = run("tokenize", "a (red:1.5) circle");
        assertTrue(framed.out().startsWith("49406 320 736 7117 49407 49407"), framed.out());
        assertTrue(framed.out().contains("weights: 1 1 1.5 1 1"), framed.out());
        JsonNode json = new ObjectMapper().readTree(run("tokenize", "--json", "--family", "sd2", "a cat").out());
        assertEquals(0, json.get("chunks").get(0).get("ids").get(4).asInt());
        assertEquals(1, json.get("chunks").size());
        assertEquals(2, run("tokenize").status());
    }

    @Test
    void initModelThenSampleEverySampler() throws Exception {
        Path model = dir.resolve("tiny.safetensors");
        Result init = run("init-model", "--config", "tiny", "--seed", "3", "--out", model.toString());
        assertEquals(0, init.status(), init.err());
        assertTrue(Files.exists(dir.resolve("tiny.json")), "config written beside the model");
        try (SafetensorsReader r = SafetensorsReader.open(model);
             SafetensorsReader ref = SafetensorsReader.open(ParityFixtures.model())) {
            // the same keys, shapes and dtypes as the reference tiny model
            assertEquals(new java.util.TreeSet<>(ref.tensors().stream().map(TensorInfo::toString).toList()),
                    new java.util.TreeSet<>(r.tensors().stream().map(TensorInfo::toString).toList()));
        }
        byte[] first = null;
        for (String sampler : List.of("ddim", "euler", "euler_a", "dpmpp_2m_karras")) {
            Path png = dir.resolve(sampler + ".png");
            Result s = run("sample", "-q", "--model", model.toString(), "--prompt", "a (red:1.2) circle", "--negative",
                    "blurry", "--steps", "3", "--sampler", sampler, "--seed", "7", "--width", "16", "--height", "24",
                    "--out", png.toString());
            assertEquals(0, s.status(), s.err());
            BufferedImage img = ImageIO.read(png.toFile());
            assertEquals(16, img.getWidth());
            assertEquals(24, img.getHeight());
            String params = pngText(png, "parameters");
            assertTrue(params.startsWith("a (red:1.2) circle\nNegative prompt: blurry\nSteps: 3, Sampler: "), params);
            assertTrue(params.contains("CFG scale: 7, Seed: 7, Size: 16x24, Model: tiny"), params);
            if (sampler.equals("ddim")) {
                first = Files.readAllBytes(png);
            }
        }
        Path again = dir.resolve("again.png");
        assertEquals(0, run("sample", "-q", "--model", model.toString(), "--prompt", "a (red:1.2) circle", "--negative",
                "blurry", "--steps", "3", "--sampler", "ddim", "--seed", "7", "--width", "16", "--height", "24",
                "--out", again.toString()).status());
        assertArrayEquals(first, Files.readAllBytes(again), "same seed, same image");
        Path i2i = dir.resolve("i2i.png");
        Result img2img = run("sample", "-q", "--model", model.toString(), "--prompt", "a blue circle", "--init-image",
                again.toString(), "--strength", "0.5", "--steps", "4", "--sampler", "euler", "--width", "16",
                "--height", "24", "--out", i2i.toString());
        assertEquals(0, img2img.status(), img2img.err());
        assertTrue(pngText(i2i, "parameters").contains("Denoising strength: 0.5"), pngText(i2i, "parameters"));
    }

    @Test
    void sampleWithReferenceNoiseReproducesLdmDdim() throws Exception {
        Path noise = dir.resolve("noise.safetensors");
        Path latent = dir.resolve("latent.safetensors");
        try (NDManager m = ParityFixtures.runtime().newManager();
             SafetensorsReader v = SafetensorsReader.open(ParityFixtures.resource("tiny-sd1-vectors.safetensors"))) {
            NDArray n = ParityFixtures.read(v, "ddim.noise", m);
            try (SafetensorsWriter w = SafetensorsWriter.create(noise, new WritePlan(List.of(new TensorInfo("noise",
                    DType.F32, n.getShape().getShape())), Map.of()))) {
                w.write("noise", n.toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN));
                w.commit();
            }
            Path png = dir.resolve("ddim.png");
            Result s = run("sample", "-q", "--model", ParityFixtures.model().toString(), "--config",
                    ParityFixtures.config().toString(), "--prompt", "a red circle", "--steps", "4", "--cfg", "7",
                    "--sampler", "ddim", "--noise", noise.toString(), "--width", "16", "--height", "16",
                    "--latent-out", latent.toString(), "--out", png.toString());
            assertEquals(0, s.status(), s.err());
            try (SafetensorsReader l = SafetensorsReader.open(latent)) {
                double d = ParityFixtures.maxAbsDiff(ParityFixtures.read(v, "ddim.out", m),
                        ParityFixtures.read(l, "latent", m));
                assertTrue(d < 1e-3, "latent differs from ldm's by " + d);
            }
        }
    }

    @Test
    void badInputFailsWithOneLine() throws Exception {
        Path model = dir.resolve("tiny.safetensors");
        assertEquals(0, run("init-model", "--config", "tiny", "--out", model.toString()).status());
        Files.delete(dir.resolve("tiny.json"));
        Path png = dir.resolve("x.png");
        Result r = run("sample", "-q", "--model", model.toString(), "--prompt", "x", "--out", png.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(model.toString()) && r.err().contains("--config"), r.err());
        assertEquals(1, r.err().trim().split("\n").length, r.err());
        assertFalse(Files.exists(png));
        Result badSize = run("sample", "-q", "--model", ParityFixtures.model().toString(), "--prompt", "x", "--width", "10",
                "--out", png.toString());
        assertEquals(1, badSize.status());
        assertTrue(badSize.err().contains("multiples of 4"), badSize.err());
        assertEquals(2, run("sample", "-q", "--model", model.toString(), "--prompt", "x", "--sampler", "plms", "--out",
                png.toString()).status());
        assertEquals(2, run("init-model", "--config", "tiny", "--out", dir.resolve("a.bin").toString()).status());
        Result lora = run("sample", "-q", "--model", ParityFixtures.model().toString(), "--prompt", "x", "--lora",
                model + ":0.5", "--width", "8", "--height", "8", "--steps", "1", "--out", png.toString());
        assertEquals(1, lora.status());
        assertTrue(lora.err().contains("no adapter type plugin is installed"), lora.err());
        assertFalse(Files.exists(png));
    }
}
