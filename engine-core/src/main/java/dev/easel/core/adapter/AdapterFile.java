package dev.easel.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.ParameterValues;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.merge.TensorArrays;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An adapter file read module by module: each group of keys is offered to every installed {@link AdapterType}; when
 * several recognise the same keys (kohya and LyCORIS LoCon store identical tensors), the file decides: LyCORIS when
 * {@code ss_network_module} names LyCORIS or the names use the {@code lycoris_} prefix, else the type whose tool
 * wrote this spelling (kohya for {@code lora_down}, PEFT for {@code lora_A}), and an explicit preferred id wins over
 * both. Groups no type recognises are kept by name in {@link #unrecognized()}, never dropped silently.
 */
public final class AdapterFile implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DEFAULT_ORDER = List.of("lora/kohya", "lora/peft", "lycoris/dora",
            "kohya/oft", "lycoris/oft", "lycoris/boft", "lycoris/loha", "lycoris/lokr", "lycoris/ia3",
            "lycoris/glora", "lycoris/full", "lycoris/norm", "lycoris/locon");

    private final TensorSource source;
    private final Map<String, LoadedModule> modules = new LinkedHashMap<>();
    private final Map<String, List<String>> unrecognized = new LinkedHashMap<>();

    private AdapterFile(TensorSource source, List<AdapterType> types, String preferred) throws IOException {
        this.source = source;
        if (types.isEmpty()) {
            throw new AdapterException("no adapter types are installed (plugins adapter-kohya, adapter-lycoris)");
        }
        boolean lycoris = source.metadata().getOrDefault("ss_network_module", "").startsWith("lycoris");
        JsonNode peftConfig = peftConfig(source);
        for (Map.Entry<String, Map<String, TensorInfo>> e : AdapterKeys.group(source.tensors()).entrySet()) {
            String name = e.getKey();
            List<AdapterType> matching = new ArrayList<>();
            Map<AdapterType, AdapterModule> recognised = new HashMap<>();
            for (AdapterType t : types) {
                Optional<AdapterModule> m;
                try {
                    m = t.recognize(name, e.getValue());
                } catch (RuntimeException ex) {
                    m = Optional.empty();
                }
                if (m.isPresent()) {
                    matching.add(t);
                    recognised.put(t, m.get());
                }
            }
            if (matching.isEmpty()) {
                unrecognized.put(name, new ArrayList<>(e.getValue().keySet()));
                continue;
            }
            boolean preferLycoris = lycoris || name.startsWith("lycoris_");
            matching.sort(Comparator.comparingInt(t -> rank(t.descriptor().id(), preferred, preferLycoris)));
            AdapterType chosen = matching.get(0);
            AdapterModule m = recognised.get(chosen);
            TensorInfo alphaInfo = e.getValue().get("alpha");
            Double alpha = alphaInfo == null ? null : (double) scalar(name + ".alpha");
            ParameterValues params = chosen.descriptor().id().equals("lora/peft")
                    ? chosen.parameters().validate(peftParameters(peftConfig, name, m.rank()))
                    : chosen.parameters().validate(Map.of());
            List<String> others = matching.stream().skip(1).map(t -> t.descriptor().id()).toList();
            modules.put(name, new LoadedModule(name, chosen,
                    new AdapterModule(m.prefix(), m.tensors(), m.rank(), alpha, m.variant()), params, others));
        }
    }

    /**
     * Reads an adapter from an open source (which this file then owns).
     *
     * @param preferred a type id to choose when several recognise a module, or {@code null}
     */
    public static AdapterFile open(TensorSource source, List<AdapterType> types, String preferred) {
        try {
            return new AdapterFile(source, types, preferred);
        } catch (IOException | RuntimeException e) {
            try {
                source.close();
            } catch (IOException ignored) {
                // the first failure is the one to report
            }
            if (e instanceof AdapterException ae) {
                throw new AdapterException(source.location() + ": " + ae.getMessage(), ae);
            }
            throw new AdapterException(source.location() + ": " + e.getMessage(), e);
        }
    }

    private static int rank(String id, String preferred, boolean preferLycoris) {
        if (id.equals(preferred)) {
            return -100;
        }
        int base = DEFAULT_ORDER.indexOf(id);
        if (base < 0) {
            base = DEFAULT_ORDER.size();
        }
        if (preferLycoris && id.startsWith("lycoris/")) {
            base -= 50;
        }
        return base;
    }

    /** Where the tensors come from. */
    public Path location() {
        return source.location();
    }

    /** The file's string metadata. */
    public Map<String, String> metadata() {
        return source.metadata();
    }

    /** The recognised modules by name, in file order. */
    public Map<String, LoadedModule> modules() {
        return Collections.unmodifiableMap(modules);
    }

    /** Module names no installed type recognised, with their suffixes. */
    public Map<String, List<String>> unrecognized() {
        return Collections.unmodifiableMap(unrecognized);
    }

    /** The underlying source. */
    public TensorSource source() {
        return source;
    }

    /** The module's tensors as float32, keyed by suffix (integer tensors such as {@code on_input} keep their type). */
    public Map<String, NDArray> read(LoadedModule module, NDManager manager) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, TensorInfo> e : module.module().tensors().entrySet()) {
            TensorInfo info = e.getValue();
            try {
                DType dt = info.dtype();
                if (!TensorArrays.computable(dt) && dt != DType.I64 && dt != DType.I32 && dt != DType.I8
                        && dt != DType.U8 && dt != DType.I16 && dt != DType.BOOL) {
                    throw new AdapterException("tensor '" + info.name() + "' has type " + dt
                            + ", which adapters cannot use");
                }
                NDArray a = TensorArrays.computable(dt)
                        ? TensorArrays.toFloat32(manager, source.read(info.name()), dt, new Shape(info.shape()))
                        : manager.create(copy(source.read(info.name())), new Shape(info.shape()),
                                TensorArrays.dataType(dt)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
                out.put(e.getKey(), a);
            } catch (IOException ex) {
                throw new AdapterException(source.location() + ": cannot read '" + info.name() + "': "
                        + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static java.nio.ByteBuffer copy(java.nio.ByteBuffer b) {
        java.nio.ByteBuffer d = java.nio.ByteBuffer.allocateDirect(b.remaining()).order(java.nio.ByteOrder.nativeOrder());
        d.put(b.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN));
        d.flip();
        return d;
    }

    private float scalar(String key) throws IOException {
        TensorInfo info = source.info(key).orElseThrow();
        if (info.elementCount() != 1) {
            throw new AdapterException("'" + key + "' should hold one value but has shape "
                    + java.util.Arrays.toString(info.shape()));
        }
        java.nio.ByteBuffer b = source.read(key).duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return switch (info.dtype()) {
            case F32 -> b.getFloat();
            case F64 -> (float) b.getDouble();
            case F16 -> halfToFloat(b.getShort());
            case BF16 -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
            case I64 -> b.getLong();
            case I32 -> b.getInt();
            case I16 -> b.getShort();
            case I8, U8 -> b.get();
            default -> throw new AdapterException("'" + key + "' has type " + info.dtype() + ", not a number");
        };
    }

    /** IEEE binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static JsonNode peftConfig(TensorSource source) {
        String json = source.metadata().get("lora_adapter_metadata");
        if (json == null) {
            return null;
        }
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AdapterException("metadata 'lora_adapter_metadata' is not JSON: " + e.getMessage());
        }
    }

    /** LoraConfig's lora_alpha for one module: an alpha_pattern entry that ends its name, else the global value. */
    private static Map<String, Object> peftParameters(JsonNode config, String module, int rank) {
        Map<String, Object> p = new HashMap<>();
        if (config == null) {
            return p;
        }
        JsonNode alpha = config.get("lora_alpha");
        JsonNode patterns = config.get("alpha_pattern");
        if (patterns != null && patterns.isObject()) {
            var it = patterns.fields();
            while (it.hasNext()) {
                var f = it.next();
                if (module.endsWith(f.getKey()) || module.endsWith(f.getKey().replace('.', '_'))) {
                    alpha = f.getValue();
                }
            }
        }
        if (alpha != null && alpha.isNumber()) {
            p.put("lora_alpha", alpha.asDouble());
        }
        JsonNode rs = config.get("use_rslora");
        if (rs != null && rs.isBoolean()) {
            p.put("use_rslora", rs.asBoolean());
        }
        return p;
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
