package dev.easel.core.format.diffusers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.format.Detection;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.convert.ModelConverter;
import dev.easel.core.convert.Sd15Models;
import dev.easel.core.format.pytorch.PyTorchFormat;
import dev.easel.core.format.pytorch.TorchCheckpointWriter;
import dev.easel.core.format.safetensors.SafetensorsFormat;
import dev.easel.core.format.safetensors.SafetensorsReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffusersFolderTest {
    @TempDir
    Path dir;

    private Path pipeline() throws IOException {
        Path model = Sd15Models.writeSafetensors(dir.resolve("m.safetensors"), Sd15Models.tinySd1(false, 4), 3);
        Path folder = dir.resolve("pipe");
        ModelConverter.convert(List.of(new SafetensorsFormat(), new PyTorchFormat(), new DiffusersFormat()), model,
                folder, new ModelConverter.Options(null, ModelConverter.EmaMode.KEEP, null), w -> { });
        return folder;
    }

    @Test
    void readsLegacyBinWeightsThroughTheRestrictedUnpickler() throws IOException {
        Path folder = pipeline();
        Path st = folder.resolve("unet/diffusion_pytorch_model.safetensors");
        Map<String, Object> stateDict = new LinkedHashMap<>();
        Map<String, java.nio.ByteBuffer> expected = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(st)) {
            for (TensorInfo t : r.tensors()) {
                java.nio.ByteBuffer copy = java.nio.ByteBuffer.allocate((int) t.byteSize()).put(r.read(t.name())).flip();
                expected.put("unet." + t.name(), copy);
                stateDict.put(t.name(), new TorchCheckpointWriter.Tensor(t.dtype(), t.shape(), copy));
            }
        }
        Files.delete(st);
        TorchCheckpointWriter.save(folder.resolve("unet/diffusion_pytorch_model.bin"), stateDict);
        assertEquals(Detection.CONTENT, new DiffusersFormat().detect(folder));
        try (DiffusersFolder f = DiffusersFolder.open(folder)) {
            for (Map.Entry<String, java.nio.ByteBuffer> e : expected.entrySet()) {
                assertEquals(e.getValue(), f.read(e.getKey()), e.getKey());
            }
            assertEquals("epsilon", f.metadata().get("prediction_type"));
        }
        // A component folder on its own is readable too.
        try (DiffusersFolder unet = DiffusersFolder.open(folder.resolve("unet"))) {
            assertEquals(expected.size(), unet.tensors().size());
        }
    }

    @Test
    void readsShardedWeightsThroughTheirIndex() throws IOException {
        Path folder = pipeline();
        Path st = folder.resolve("unet/diffusion_pytorch_model.safetensors");
        Map<String, java.nio.ByteBuffer> expected = new LinkedHashMap<>();
        List<TensorInfo> first = new java.util.ArrayList<>();
        List<TensorInfo> second = new java.util.ArrayList<>();
        com.fasterxml.jackson.databind.node.ObjectNode index = new com.fasterxml.jackson.databind.ObjectMapper()
                .createObjectNode();
        com.fasterxml.jackson.databind.node.ObjectNode map = index.putObject("weight_map");
        try (SafetensorsReader r = SafetensorsReader.open(st)) {
            for (TensorInfo t : r.tensors()) {
                expected.put(t.name(), java.nio.ByteBuffer.allocate((int) t.byteSize()).put(r.read(t.name())).flip());
                (first.size() < r.tensors().size() / 2 ? first : second).add(t);
            }
        }
        Files.delete(st);
        for (int s = 0; s < 2; s++) {
            List<TensorInfo> shard = s == 0 ? first : second;
            String name = "diffusion_pytorch_model-0000" + (s + 1) + "-of-00002.safetensors";
            try (var w = dev.easel.core.format.safetensors.SafetensorsWriter.create(folder.resolve("unet").resolve(name),
                    new dev.easel.api.tensor.WritePlan(shard, Map.of()))) {
                for (TensorInfo t : shard) {
                    w.write(t.name(), expected.get(t.name()));
                    map.put(t.name(), name);
                }
                w.commit();
            }
        }
        Files.writeString(folder.resolve("unet/diffusion_pytorch_model.safetensors.index.json"), index.toString());
        try (DiffusersFolder f = DiffusersFolder.open(folder)) {
            for (Map.Entry<String, java.nio.ByteBuffer> e : expected.entrySet()) {
                assertEquals(e.getValue(), f.read("unet." + e.getKey()), e.getKey());
            }
        }
        map.put("conv_in.weight", "../../etc/passwd");
        Files.writeString(folder.resolve("unet/diffusion_pytorch_model.safetensors.index.json"), index.toString());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder));
        assertTrue(e.getMessage().contains("invalid shard file"), e.getMessage());
    }

    @Test
    void missingWeightsAndBadJsonAreOneLineErrors() throws IOException {
        Path folder = pipeline();
        Files.delete(folder.resolve("vae/diffusion_pytorch_model.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder));
        assertTrue(e.getMessage().contains("no weights file"), e.getMessage());
        Files.writeString(folder.resolve("model_index.json"), "{not json");
        e = assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder));
        assertTrue(e.getMessage().startsWith(folder.resolve("model_index.json") + ": "), e.getMessage());
    }

    @Test
    void vocabularyIsDerivedLikeClipsTokenizer() throws IOException {
        // A miniature BPE file: header, then merges; the real one yields 49,408 ids the same way.
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write("\"bpe_simple_vocab_16e6.txt#version: 0.2\ni n\nt h\nth e</w>\n".getBytes(StandardCharsets.UTF_8));
        }
        Path tok = Files.createDirectories(dir.resolve("tok"));
        DiffusersWriter.writeVocabulary(tok, new ByteArrayInputStream(gz.toByteArray()));
        var vocab = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tok.resolve("vocab.json").toFile());
        assertEquals(0, vocab.get("!").asInt());
        assertEquals(265, vocab.get("*</w>").asInt()); // A1111's string_to_token constant
        assertEquals(320, vocab.get("a</w>").asInt());
        assertEquals(512, vocab.get("in").asInt());
        assertEquals(514, vocab.get("the</w>").asInt());
        assertEquals(515, vocab.get("<|startoftext|>").asInt());
        assertEquals("#version: 0.2\ni n\nt h\nth e</w>\n", Files.readString(tok.resolve("merges.txt")));
    }
}
