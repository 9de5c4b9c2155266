package dev.easel.core.sd.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.model.Component;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.nn.Layer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parity model re-keyed to the diffusers layout (as the diffusers folder format presents a folder: {@code unet.},
 * {@code vae.}, {@code text_encoder.} prefixes, VAE attention as linear) loads into the same networks.
 */
class DiffusersLayoutTest {
    @TempDir
    Path dir;

    @Test
    void diffusersKeyedCheckpointGivesTheSameOutputs() throws Exception {
        Path rekeyed = dir.resolve("diffusers.safetensors");
        SdModelConfig config = ModelConfigs.read(ParityFixtures.config());
        try (NDManager m = ParityFixtures.runtime().newManager();
             SafetensorsReader ldm = SafetensorsReader.open(ParityFixtures.model());
             SdModel reference = SdModel.load(ldm, config, m)) {
            Map<String, String> rename = new HashMap<>();
            Map<String, long[]> reshape = new HashMap<>();
            for (Layer l : reference.allLayers()) {
                String alias = Layer.diffusersPrefix(l.component()) + l.diffusersName();
                rename.put(l.ldmName() + ".weight", alias + ".weight");
                rename.put(l.ldmName() + ".bias", alias + ".bias");
                long[] s = l.weightShape();
                if (l.component() == Component.VAE && l.ldmName().contains("attn_1") && s.length == 4) {
                    reshape.put(alias + ".weight", new long[] {s[0], s[1]});
                }
            }
            rename.put("cond_stage_model.transformer.text_model.embeddings.position_embedding.weight",
                    "text_encoder.text_model.embeddings.position_embedding.weight");
            rename.put("cond_stage_model.transformer.text_model.embeddings.position_ids",
                    "text_encoder.text_model.embeddings.position_ids");
            List<TensorInfo> infos = new ArrayList<>();
            for (TensorInfo t : ldm.tensors()) {
                String n = rename.get(t.name());
                assertTrue(n != null, "no diffusers name for " + t.name());
                infos.add(reshape.containsKey(n) ? new TensorInfo(n, t.dtype(), reshape.get(n)) : t.withName(n));
            }
            try (SafetensorsWriter w = SafetensorsWriter.create(rekeyed, new WritePlan(infos, Map.of()))) {
                for (TensorInfo t : ldm.tensors()) {
                    w.write(rename.get(t.name()), ldm.read(t.name()));
                }
                w.commit();
            }
            try (SafetensorsReader diff = SafetensorsReader.open(rekeyed);
                 SafetensorsReader v = SafetensorsReader.open(ParityFixtures.resource("tiny-sd1-vectors.safetensors"));
                 SdModel loaded = SdModel.load(diff, config, m)) {
                NDArray out = loaded.unet().forward(ParityFixtures.read(v, "unet.x", m),
                        ParityFixtures.read(v, "unet.t", m), ParityFixtures.read(v, "unet.context", m));
                assertTrue(ParityFixtures.maxAbsDiff(ParityFixtures.read(v, "unet.out", m), out) < 1e-4);
                assertTrue(ParityFixtures.maxAbsDiff(ParityFixtures.read(v, "vae.decoded", m),
                        loaded.vae().decode(ParityFixtures.read(v, "vae.z", m))) < 1e-4);
                assertTrue(ParityFixtures.maxAbsDiff(ParityFixtures.read(v, "text.last", m),
                        loaded.textEncoder().encode(ParityFixtures.read(v, "text.ids", m), 1)) < 1e-4);
            }
        }
    }
}
