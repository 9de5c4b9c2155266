package dev.easel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.convert.FloatConversion;
import dev.easel.core.convert.Sd15Models;
import dev.easel.core.format.diffusers.DiffusersFolder;
import dev.easel.core.format.pytorch.TorchCheckpointWriter;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel inspect} and {@code easel convert} end to end on files in the real SD key layouts. */
class ConvertCliTest {
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

    private static Map<String, ByteBuffer> all(SafetensorsReader r) throws IOException {
        Map<String, ByteBuffer> m = new LinkedHashMap<>();
        for (TensorInfo t : r.tensors()) {
            m.put(t.name(), r.read(t.name()));
        }
        return m;
    }

    private List<String> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void inspectsAnSd15CheckpointAsTextAndJson() throws IOException {
        Path model = Sd15Models.writeSafetensors(dir.resolve("sd15.safetensors"), Sd15Models.tinySd1(true, 9), 1);
        Result text = run("inspect", model.toString());
        assertEquals(0, text.status(), text.err());
        assertTrue(text.out().contains("family:      sd1"), text.out());
        assertTrue(text.out().contains("layout:      ldm"), text.out());
        assertTrue(text.out().contains("components:  unet, vae, text_encoder"), text.out());
        assertTrue(text.out().contains("ema:         yes"), text.out());
        assertTrue(text.out().contains("inpainting:  yes (9 input channels)"), text.out());
        assertTrue(text.out().contains("tensors:     1831"), text.out());
        Result json = run("inspect", "--json", model.toString());
        JsonNode root = new ObjectMapper().readTree(json.out());
        assertEquals("format/safetensors", root.get("format").asText());
        assertEquals(1831, root.get("tensors").size());
        assertEquals(1829, root.get("dtypes").get("F32").asInt());
        assertEquals("epsilon", root.get("prediction").asText());
        JsonNode first = root.get("tensors").get(0);
        assertTrue(first.has("name") && first.has("dtype") && first.get("shape").isArray());
    }

    @Test
    void ldmToDiffusersAndBackIsBitExactForSd1AndSd2() throws IOException {
        for (int v = 1; v <= 2; v++) {
            List<TensorInfo> keys = v == 1 ? Sd15Models.tinySd1(false, 4) : Sd15Models.tinySd2();
            Path model = Sd15Models.writeSafetensors(dir.resolve("sd" + v + ".safetensors"), keys, v);
            Path folder = dir.resolve("sd" + v + "-diffusers");
            Result toHf = run("convert", model.toString(), folder.toString());
            assertEquals(0, toHf.status(), toHf.err() + toHf.out());
            for (String f : List.of("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                    "vae/config.json", "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
                    "text_encoder/model.safetensors", "scheduler/scheduler_config.json",
                    "tokenizer/tokenizer_config.json")) {
                assertTrue(Files.isRegularFile(folder.resolve(f)), f);
            }
            JsonNode unet = new ObjectMapper().readTree(folder.resolve("unet/config.json").toFile());
            assertEquals(v == 1 ? 768 : 1024, unet.get("cross_attention_dim").asInt());
            assertEquals(v == 2, unet.get("use_linear_projection").asBoolean());
            try (SafetensorsReader vae = SafetensorsReader.open(folder.resolve("vae/diffusion_pytorch_model.safetensors"))) {
                assertEquals(2, vae.info("encoder.mid_block.attentions.0.to_q.weight").orElseThrow().rank());
                assertEquals(Map.of("format", "pt"), vae.metadata());
            }
            try (DiffusersFolder hf = DiffusersFolder.open(folder)) {
                assertTrue(hf.contains("unet.down_blocks.1.resnets.0.conv_shortcut.weight"));
                assertTrue(hf.contains("unet.up_blocks.0.upsamplers.0.conv.weight"));
                assertTrue(hf.contains(v == 1 ? "text_encoder.text_model.encoder.layers.11.mlp.fc2.bias"
                        : "text_encoder.text_model.encoder.layers.2.self_attn.v_proj.weight"));
            }
            Result inspect = run("inspect", folder.toString());
            assertTrue(inspect.out().contains("layout:      diffusers"), inspect.out());
            assertTrue(inspect.out().contains("family:      sd" + v), inspect.out());
            Path back = dir.resolve("sd" + v + "-back.safetensors");
            Result toLdm = run("convert", folder.toString(), back.toString());
            assertEquals(0, toLdm.status(), toLdm.err() + toLdm.out());
            try (SafetensorsReader a = SafetensorsReader.open(model); SafetensorsReader b = SafetensorsReader.open(back)) {
                Map<String, ByteBuffer> original = all(a);
                // The schedule buffers have no diffusers counterpart (scheduler_config.json replaces them).
                original.keySet().removeIf(k -> !k.contains("."));
                Map<String, ByteBuffer> converted = all(b);
                assertEquals(original.keySet(), converted.keySet(), "sd" + v);
                for (String k : original.keySet()) {
                    assertEquals(a.info(k).orElseThrow(), b.info(k).orElseThrow(), k);
                    assertEquals(original.get(k), converted.get(k), k);
                }
            }
        }
    }

    @Test
    void ckptToFp16SafetensorsWithEmaChoices() throws IOException {
        List<TensorInfo> keys = Sd15Models.tinySd1(true, 4);
        Random random = new Random(5);
        Map<String, Object> stateDict = new LinkedHashMap<>();
        Map<String, ByteBuffer> values = new LinkedHashMap<>();
        for (TensorInfo t : keys) {
            ByteBuffer b = Sd15Models.values(t, random);
            values.put(t.name(), b);
            stateDict.put(t.name(), new TorchCheckpointWriter.Tensor(t.dtype(), t.shape(), b));
        }
        Path ckpt = dir.resolve("model.ckpt");
        TorchCheckpointWriter.save(ckpt, Map.of("state_dict", stateDict, "global_step", 470000L));

        Path fp16 = dir.resolve("fp16.safetensors");
        Result r = run("convert", ckpt.toString(), fp16.toString(), "--dtype", "fp16", "--prune-ema");
        assertEquals(0, r.status(), r.err() + r.out());
        String conv = "model.diffusion_model.input_blocks.0.0.weight";
        try (SafetensorsReader out = SafetensorsReader.open(fp16)) {
            assertFalse(out.tensors().stream().anyMatch(t -> t.name().startsWith("model_ema.")));
            assertEquals(DType.I64, out.info("cond_stage_model.transformer.text_model.embeddings.position_ids")
                    .orElseThrow().dtype());
            assertEquals(DType.F16, out.info(conv).orElseThrow().dtype());
            ByteBuffer expected = FloatConversion.convert(values.get(conv), DType.F32, DType.F16);
            assertEquals(expected, out.read(conv));
        }
        Path ema = dir.resolve("ema.safetensors");
        r = run("convert", ckpt.toString(), ema.toString(), "--use-ema");
        assertEquals(0, r.status(), r.err() + r.out());
        try (SafetensorsReader out = SafetensorsReader.open(ema)) {
            assertEquals(values.get("model_ema.diffusion_modelinput_blocks00weight"), out.read(conv));
            assertFalse(out.contains("model_ema.decay"));
        }
        Path kept = dir.resolve("kept.safetensors");
        assertEquals(0, run("convert", ckpt.toString(), kept.toString()).status());
        try (SafetensorsReader out = SafetensorsReader.open(kept)) {
            assertEquals(1831, out.tensors().size());
            assertEquals(values.get(conv), out.read(conv));
        }
    }

    @Test
    void safetensorsToCkptAndBack() throws IOException {
        Path model = Sd15Models.writeSafetensors(dir.resolve("m.safetensors"), Sd15Models.tinySd1(true, 4), 9);
        Path ckpt = dir.resolve("m.ckpt");
        Result r = run("convert", model.toString(), ckpt.toString());
        assertEquals(0, r.status(), r.err());
        Path back = dir.resolve("back.safetensors");
        assertEquals(0, run("convert", ckpt.toString(), back.toString()).status());
        try (SafetensorsReader a = SafetensorsReader.open(model); SafetensorsReader b = SafetensorsReader.open(back)) {
            assertEquals(a.tensors(), b.tensors());
            for (TensorInfo t : a.tensors()) {
                assertEquals(a.read(t.name()), b.read(t.name()), t.name());
            }
        }
    }

    @Test
    void genericPicklesAreFlattened() throws IOException {
        Path nested = dir.resolve("nested.pt");
        try (InputStream in = getClass().getResourceAsStream("/formats/pytorch/nested.pt")) {
            Files.copy(in, nested);
        }
        Path out = dir.resolve("nested.safetensors");
        Result r = run("convert", nested.toString(), out.toString());
        assertEquals(0, r.status(), r.err() + r.out());
        try (SafetensorsReader s = SafetensorsReader.open(out)) {
            assertEquals(List.of("5", "a.b", "a.c.0", "a.c.1.0"), s.tensors().stream().map(TensorInfo::name).sorted().toList());
        }
    }

    @Test
    void a1111FilesInspectAndConvert() throws IOException {
        Path emb = dir.resolve("my-style.pt");
        try (InputStream in = getClass().getResourceAsStream("/formats/pytorch/a1111-embedding.pt")) {
            Files.copy(in, emb);
        }
        Result r = run("inspect", emb.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("format:      format/pytorch"), r.out());
        assertTrue(r.out().contains("name = my-style"), r.out());
        assertTrue(r.out().contains("parameters:  1,536"), r.out());
        Path hn = dir.resolve("hn.pt");
        try (InputStream in = getClass().getResourceAsStream("/formats/pytorch/a1111-hypernetwork.pt")) {
            Files.copy(in, hn);
        }
        Path out = dir.resolve("hn.safetensors");
        r = run("convert", hn.toString(), out.toString(), "--dtype", "bf16");
        assertEquals(0, r.status(), r.err());
        try (SafetensorsReader s = SafetensorsReader.open(out)) {
            assertEquals(16, s.tensors().size());
            assertEquals(new TensorInfo("8.1.linear.2.weight", DType.BF16, 8, 16), s.info("8.1.linear.2.weight").orElseThrow());
        }
    }

    @Test
    void badInputsFailWithOneLineAndLeaveNothing() throws IOException {
        Path good = Sd15Models.writeSafetensors(dir.resolve("good.safetensors"), Sd15Models.tinySd1(false, 4), 2);
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Path evil = dir.resolve("evil.ckpt");
        try (InputStream in = getClass().getResourceAsStream("/formats/pytorch/malicious-os-system.pt")) {
            Files.copy(in, evil);
        }
        Path junk = dir.resolve("junk.ckpt");
        Files.writeString(junk, "not a model at all");
        List<String> before = listDir();
        for (Path input : List.of(truncated, evil, junk, dir.resolve("missing.ckpt"))) {
            for (String target : List.of("out.safetensors", "out-folder")) {
                Result r = run("convert", input.toString(), dir.resolve(target).toString());
                assertEquals(1, r.status(), input + " " + r.out());
                assertEquals(1, r.err().strip().lines().count(), r.err());
                assertTrue(r.err().contains(input.toString()), r.err());
                assertEquals(before, listDir(), "nothing left behind");
            }
            Result inspect = run("inspect", input.toString());
            assertEquals(1, inspect.status());
            assertTrue(inspect.err().contains(input.toString()), inspect.err());
        }
        assertTrue(run("convert", evil.toString(), dir.resolve("x.safetensors").toString()).err()
                .contains("'posix.system'"));
        assertFalse(Files.exists(Path.of("/tmp/easel-pickle-ran-os-system")));
        Result layout = run("convert", good.toString(), dir.resolve("x.safetensors").toString(), "--layout", "sideways");
        assertEquals(1, layout.status());
    }

    @Test
    void bakesAStandaloneA1111VaeOrTheVaeOfAnotherCheckpoint() throws IOException {
        List<TensorInfo> keys = Sd15Models.tinySd1(false, 4);
        Path model = Sd15Models.writeSafetensors(dir.resolve("model.safetensors"), keys, 1);
        Path donor = Sd15Models.writeSafetensors(dir.resolve("donor.safetensors"), keys, 2);
        // a standalone VAE as A1111 loads it: ldm keys without the prefix in a torch .pt, with the loss's extra key
        Map<String, Object> vaeDict = new LinkedHashMap<>();
        Map<String, ByteBuffer> vaeValues = new LinkedHashMap<>();
        Random random = new Random(3);
        for (TensorInfo t : keys) {
            if (t.name().startsWith("first_stage_model.")) {
                ByteBuffer b = Sd15Models.values(t, random);
                vaeValues.put(t.name(), b);
                vaeDict.put(t.name().substring("first_stage_model.".length()),
                        new TorchCheckpointWriter.Tensor(t.dtype(), t.shape(), b));
            }
        }
        vaeDict.put("loss.logvar", new TorchCheckpointWriter.Tensor(DType.F32, new long[0],
                ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, 0f)));
        Path vae = dir.resolve("my.vae.pt");
        TorchCheckpointWriter.save(vae, Map.of("state_dict", vaeDict));

        Path baked = dir.resolve("baked.safetensors");
        Result r = run("convert", model.toString(), baked.toString(), "--vae", vae.toString());
        assertEquals(0, r.status(), r.err() + r.out());
        assertTrue(r.out().contains("with the VAE of my.vae.pt"), r.out());
        Path fromDonor = dir.resolve("from-donor.safetensors");
        assertEquals(0, run("convert", model.toString(), fromDonor.toString(), "--vae", donor.toString(), "--dtype",
                "fp16").status());
        try (SafetensorsReader m = SafetensorsReader.open(model); SafetensorsReader d = SafetensorsReader.open(donor);
             SafetensorsReader b = SafetensorsReader.open(baked); SafetensorsReader f = SafetensorsReader.open(fromDonor)) {
            assertEquals(m.tensors().size(), b.tensors().size());
            int vaeKeys = 0;
            for (TensorInfo t : m.tensors()) {
                if (t.name().startsWith("first_stage_model.")) {
                    vaeKeys++;
                    assertEquals(vaeValues.get(t.name()), b.read(t.name()), t.name());
                    assertEquals(FloatConversion.convert(d.read(t.name()), DType.F32, DType.F16), f.read(t.name()));
                } else {
                    assertEquals(m.read(t.name()), b.read(t.name()), t.name());
                }
            }
            assertTrue(vaeKeys > 20, "VAE keys: " + vaeKeys);
        }

        // a VAE of another architecture, or a file without one, is refused before anything is written
        List<TensorInfo> wider = keys.stream().map(t -> t.name().equals("first_stage_model.decoder.conv_out.weight")
                ? new TensorInfo(t.name(), t.dtype(), 3, 4, 3, 3) : t).toList();
        Path other = Sd15Models.writeSafetensors(dir.resolve("wider.safetensors"), wider, 4);
        Path unetOnly = Sd15Models.writeSafetensors(dir.resolve("unet-only.safetensors"), keys.stream()
                .filter(t -> t.name().startsWith("model.diffusion_model.")).toList(), 5);
        List<String> before = listDir();
        for (Path bad : List.of(other, unetOnly, dir.resolve("missing.vae.pt"))) {
            Result res = run("convert", model.toString(), dir.resolve("bad.safetensors").toString(), "--vae",
                    bad.toString());
            assertEquals(1, res.status(), res.out());
            assertTrue(res.err().contains(bad.getFileName().toString()), res.err());
        }
        assertTrue(run("convert", model.toString(), dir.resolve("bad.safetensors").toString(), "--vae",
                other.toString()).err().contains("another architecture"));
        assertEquals(before, listDir(), "nothing left behind");
    }
}
