package dev.easel.core.sd.hooks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.model.Component;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.sd.model.ModelLoadException;
import dev.easel.core.sd.model.TensorReads;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Applies adapter files (LoRA and its variants, kohya naming) to a model for sampling, through the installed
 * {@link AdapterType} plugins: keys are grouped by module prefix ({@code lora_unet_…}, {@code lora_te_…}), each group
 * is recognised by a type, its weight delta is computed by that type and added at the given strength. Several files
 * on one module add up; each module is wrapped once by {@link #install}, with {@code W + Σ strength·ΔW}.
 */
public final class AdapterApplier {
    private final List<AdapterType> types;
    private final List<ModelFormat> formats;
    private final SdNetworkHooks hooks;
    private final Map<String, NetworkModule> byKohyaName = new HashMap<>();
    private final Map<NetworkModule, NDArray> deltas = new LinkedHashMap<>();

    public AdapterApplier(SdNetworkHooks hooks, List<AdapterType> types, List<ModelFormat> formats) {
        this.hooks = hooks;
        this.types = List.copyOf(types);
        this.formats = List.copyOf(formats);
        for (NetworkModule m : hooks.modules(Component.UNET)) {
            byKohyaName.put("lora_unet_" + m.diffusersName().replace('.', '_'), m);
            // kohya's SDXL files, A1111 and Easel's own extract of a non-standard UNet spell modules the ldm way.
            String ldm = m.ldmName().startsWith("model.diffusion_model.")
                    ? m.ldmName().substring("model.diffusion_model.".length()) : m.ldmName();
            byKohyaName.putIfAbsent("lora_unet_" + ldm.replace('.', '_'), m);
        }
        for (NetworkModule m : hooks.modules(Component.TEXT_ENCODER)) {
            byKohyaName.put("lora_te_" + m.diffusersName().replace('.', '_'), m);
        }
    }

    /** The kohya module name of a module ({@code lora_unet_down_blocks_0_attentions_0_proj_in}). */
    public static String kohyaName(NetworkModule m) {
        return (m.component() == Component.UNET ? "lora_unet_" : "lora_te_") + m.diffusersName().replace('.', '_');
    }

    /** Reads one adapter file and accumulates its deltas at {@code strength}; returns the number of modules. */
    public int add(Path file, float strength) throws IOException {
        if (types.isEmpty()) {
            throw new ModelLoadException(file, "cannot apply: no adapter type plugin is installed (the LoRA plugins "
                    + "provide them)");
        }
        try (TensorSource src = ModelFormats.open(formats, file)) {
            Map<String, Map<String, TensorInfo>> groups = new TreeMap<>();
            for (TensorInfo t : src.tensors()) {
                int dot = t.name().indexOf('.');
                if (dot < 0) {
                    continue;
                }
                groups.computeIfAbsent(t.name().substring(0, dot), k -> new LinkedHashMap<>())
                        .put(t.name().substring(dot + 1), t);
            }
            NDManager manager = hooks.model().manager();
            int applied = 0;
            for (var g : groups.entrySet()) {
                NetworkModule target = byKohyaName.get(g.getKey());
                if (target == null) {
                    throw new ModelLoadException(file, "adapter module '" + g.getKey() + "' matches no module of "
                            + "this model (a LoRA for another architecture?)");
                }
                AdapterType type = null;
                AdapterModule module = null;
                for (AdapterType t : types) {
                    Optional<AdapterModule> m = t.recognize(g.getKey(), g.getValue());
                    if (m.isPresent()) {
                        type = t;
                        module = m.get();
                        break;
                    }
                }
                if (type == null) {
                    throw new ModelLoadException(file, "no installed adapter type recognises module '" + g.getKey()
                            + "' (tensors " + g.getValue().keySet() + ")");
                }
                try (NDManager tmp = manager.newSubManager()) {
                    Map<String, NDArray> tensors = new HashMap<>();
                    for (var t : g.getValue().entrySet()) {
                        TensorInfo info = t.getValue();
                        tensors.put(t.getKey(), TensorReads.toFloat32(tmp, src.read(info.name()), info.dtype(),
                                new Shape(info.shape())));
                    }
                    NDArray base = hooks.layerOf(target).weight();
                    NDArray delta = type.delta(module, tensors, base, tmp).mul(strength)
                            .reshape(new Shape(target.weightShape()));
                    NDArray prev = deltas.get(target);
                    NDArray sum = prev == null ? delta : prev.add(delta);
                    sum.attach(manager);
                    if (prev != null) {
                        prev.close();
                    }
                    deltas.put(target, sum);
                }
                applied++;
            }
            return applied;
        }
    }

    /** Wraps every adapted module with its merged weight. */
    public void install() {
        List<NetworkModule> done = new ArrayList<>();
        for (var e : deltas.entrySet()) {
            NDArray merged = hooks.layerOf(e.getKey()).weight().add(e.getValue());
            merged.attach(hooks.model().manager());
            hooks.wrap(e.getKey(), (x, base, training) -> base.forward(x, merged, base.bias()));
            done.add(e.getKey());
        }
        deltas.clear();
    }
}
