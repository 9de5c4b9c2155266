package dev.easel.core.format.pytorch;

import dev.easel.api.tensor.DType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The globals a checkpoint pickle may name, and what REDUCE, NEWOBJ and BUILD mean for each: a fixed table, never
 * an import. It is the union of what {@code torch.load(weights_only=True)} and AUTOMATIC1111's safe unpickler
 * accept for real files: the tensor rebuild functions, storage classes and dtypes, {@code OrderedDict},
 * {@code torch.Size}/{@code torch.device}, {@code _codecs.encode} (protocol-2 bytes), {@code set}/{@code frozenset}/
 * {@code slice}, and, as inert data holders, the Lightning {@code ModelCheckpoint} callback of SD {@code .ckpt}
 * files, numpy scalars/dtypes/arrays of some A1111 files and {@code ParameterDict} of old textual-inversion files.
 */
final class AllowedGlobals {
    static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("DoubleStorage", DType.F64), Map.entry("FloatStorage", DType.F32),
            Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL),
            Map.entry("ComplexFloatStorage", DType.C64), Map.entry("UntypedStorage", DType.U8));

    static final Map<String, DType> DTYPES = Map.ofEntries(
            Map.entry("float64", DType.F64), Map.entry("double", DType.F64),
            Map.entry("float32", DType.F32), Map.entry("float", DType.F32),
            Map.entry("float16", DType.F16), Map.entry("half", DType.F16),
            Map.entry("bfloat16", DType.BF16), Map.entry("int64", DType.I64), Map.entry("long", DType.I64),
            Map.entry("int32", DType.I32), Map.entry("int", DType.I32), Map.entry("int16", DType.I16),
            Map.entry("short", DType.I16), Map.entry("int8", DType.I8), Map.entry("uint8", DType.U8),
            Map.entry("bool", DType.BOOL), Map.entry("uint16", DType.U16), Map.entry("uint32", DType.U32),
            Map.entry("uint64", DType.U64), Map.entry("complex64", DType.C64),
            Map.entry("float8_e4m3fn", DType.F8_E4M3), Map.entry("float8_e5m2", DType.F8_E5M2),
            Map.entry("float8_e4m3fnuz", DType.F8_E4M3FNUZ), Map.entry("float8_e5m2fnuz", DType.F8_E5M2FNUZ),
            Map.entry("float8_e8m0fnu", DType.F8_E8M0));

    /** Inert classes: instances are kept as {@link PyObject}s with their arguments and state. */
    private static final Set<String> INERT = Set.of(
            "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
            // The module itself, which A1111's safe loader also admits for some Lightning checkpoints.
            "pytorch_lightning.callbacks.model_checkpoint",
            "lightning.pytorch.callbacks.model_checkpoint.ModelCheckpoint",
            "pytorch_lightning.callbacks.early_stopping.EarlyStopping",
            "numpy.core.multiarray.scalar", "numpy.dtype", "numpy.ndarray", "numpy.core.multiarray._reconstruct",
            "torch.nn.modules.container.ParameterDict");

    private static final Set<String> FUNCTIONS = Set.of(
            "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
            "torch.Size", "torch.device", "_codecs.encode", "builtins.set", "builtins.frozenset",
            "builtins.slice", "builtins.bytearray", "torch.nn.parameter.Parameter", "torch.Tensor");

    /** Modules never resolved, whatever a future table says (as torch's weights-only loader does). */
    private static final Set<String> BLOCKED_MODULES = Set.of("os", "posix", "nt", "sys", "subprocess");

    private AllowedGlobals() {
    }

    static PyGlobal resolve(String module, String name) throws PickleException {
        String m = switch (module) {
            case "__builtin__" -> "builtins";
            case "typing" -> name.equals("OrderedDict") ? "collections" : module;
            case "numpy._core.multiarray" -> "numpy.core.multiarray";
            default -> module;
        };
        String full = m + "." + name;
        boolean allowed = !BLOCKED_MODULES.contains(m) && (FUNCTIONS.contains(full) || INERT.contains(full)
                || (m.equals("torch") && (STORAGES.containsKey(name) || DTYPES.containsKey(name)))
                || (m.equals("torch.storage") && name.equals("UntypedStorage")));
        if (!allowed) {
            throw new PickleException("refusing global '" + module + "." + name
                    + "': not on the allow-list of checkpoint globals (pickles may rebuild tensors, never run code)");
        }
        return new PyGlobal(m, name);
    }

    /** REDUCE: {@code callable(*args)} for the allowed callables, as data. */
    static Object call(Object callable, List<Object> args) throws PickleException {
        PyGlobal g = global(callable, "REDUCE");
        String full = g.toString();
        switch (full) {
            case "collections.OrderedDict": {
                Map<Object, Object> dict = new LinkedHashMap<>();
                if (!args.isEmpty()) {
                    for (Object pair : iterable(args.get(0), full)) {
                        if (!(pair instanceof PyTuple t) || t.size() != 2) {
                            throw new PickleException("OrderedDict item is not a pair");
                        }
                        dict.put(t.get(0), t.get(1));
                    }
                }
                return dict;
            }
            case "torch._utils._rebuild_tensor":
            case "torch._utils._rebuild_tensor_v2":
                return tensor(args, null, full);
            case "torch._utils._rebuild_tensor_v3": {
                if (args.size() < 7 || !(args.get(6) instanceof PyGlobal d) || !DTYPES.containsKey(d.name())) {
                    throw new PickleException(full + " without a torch dtype");
                }
                return tensor(args, DTYPES.get(d.name()), full);
            }
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state": {
                if (args.isEmpty() || !(args.get(0) instanceof TorchTensor t)) {
                    throw new PickleException(full + " of something that is not a tensor");
                }
                return t;
            }
            case "torch._tensor._rebuild_from_type_v2": {
                if (args.size() < 3 || !(args.get(2) instanceof PyTuple inner)) {
                    throw new PickleException(full + " with malformed arguments");
                }
                return call(args.get(0), inner.items());
            }
            case "torch.Size":
                return args.isEmpty() ? new PyTuple(List.of()) : new PyTuple(new ArrayList<>(iterable(args.get(0), full)));
            case "torch.device":
                return args.isEmpty() ? "cpu" : String.valueOf(args.get(0));
            case "_codecs.encode": {
                if (args.isEmpty() || !(args.get(0) instanceof String s)) {
                    throw new PickleException("_codecs.encode of a non-string");
                }
                String enc = args.size() > 1 ? String.valueOf(args.get(1)).toLowerCase(java.util.Locale.ROOT) : "utf-8";
                return s.getBytes(enc.contains("latin") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
            }
            case "builtins.set":
            case "builtins.frozenset":
                return args.isEmpty() ? new LinkedHashSet<>() : new LinkedHashSet<>(iterable(args.get(0), full));
            case "builtins.slice":
                return new PyTuple(args);
            case "builtins.bytearray":
                return args.isEmpty() ? new byte[0] : args.get(0) instanceof byte[] b ? b : new byte[0];
            default:
                if (INERT.contains(full)) {
                    return new PyObject(g, List.copyOf(args), PyNone.NONE);
                }
                throw new PickleException("'" + full + "' cannot be called");
        }
    }

    /** NEWOBJ: {@code cls.__new__(cls, *args)} for the allowed classes. */
    static Object instantiate(Object cls, List<Object> args) throws PickleException {
        PyGlobal g = global(cls, "NEWOBJ");
        String full = g.toString();
        if (full.equals("collections.OrderedDict")) {
            return new LinkedHashMap<>();
        }
        if (INERT.contains(full)) {
            return new PyObject(g, List.copyOf(args), PyNone.NONE);
        }
        if (full.equals("torch.nn.parameter.Parameter") && !args.isEmpty() && args.get(0) instanceof TorchTensor t) {
            return t;
        }
        throw new PickleException("'" + full + "' cannot be instantiated");
    }

    /** BUILD: sets state on an object; only dicts, tensors and inert objects take it. */
    static Object build(Object obj, Object state) throws PickleException {
        if (obj instanceof Map || obj instanceof TorchTensor) {
            // OrderedDict._metadata (module versions) and tensor attributes: nothing Easel needs.
            return obj;
        }
        if (obj instanceof PyObject p) {
            return p.withState(state);
        }
        throw new PickleException("BUILD on a " + RestrictedUnpickler.typeName(obj) + " is not allowed");
    }

    private static PyGlobal global(Object o, String op) throws PickleException {
        if (o instanceof PyGlobal g) {
            return g;
        }
        throw new PickleException(op + " on a " + RestrictedUnpickler.typeName(o) + ", which is not callable");
    }

    private static Collection<?> iterable(Object o, String where) throws PickleException {
        if (o instanceof List<?> l) {
            return l;
        }
        if (o instanceof PyTuple t) {
            return t.items();
        }
        if (o instanceof Set<?> s) {
            return s;
        }
        throw new PickleException(where + " expects a sequence, got a " + RestrictedUnpickler.typeName(o));
    }

    private static TorchTensor tensor(List<Object> args, DType dtype, String fn) throws PickleException {
        if (args.size() < 4 || !(args.get(0) instanceof TorchStorage storage) || !(args.get(1) instanceof Long offset)
                || !(args.get(2) instanceof PyTuple size) || !(args.get(3) instanceof PyTuple stride)) {
            throw new PickleException(fn + " with malformed arguments");
        }
        if (size.size() != stride.size() || size.size() > 64) {
            throw new PickleException(fn + ": shape and stride differ in rank");
        }
        long[] shape = new long[size.size()];
        long[] strides = new long[size.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(size.get(i) instanceof Long d) || d < 0 || !(stride.get(i) instanceof Long s) || s < 0) {
                throw new PickleException(fn + ": bad shape " + size.items() + " or stride " + stride.items());
            }
            shape[i] = d;
            strides[i] = s;
        }
        if (offset < 0) {
            throw new PickleException(fn + ": negative storage offset " + offset);
        }
        DType type = dtype != null ? dtype : storage.dtype();
        TorchTensor t = new TorchTensor(storage, offset, shape, strides, type);
        long extent;
        try {
            t.elementCount();
            extent = t.storageExtent();
        } catch (ArithmeticException e) {
            throw new PickleException(fn + ": tensor size overflows");
        }
        // Untyped storages count bytes; typed ones elements.
        long storageElements = storage.dtype() == type ? storage.numel()
                : storage.numel() * storage.dtype().byteSize() / type.byteSize();
        if (extent > storageElements) {
            throw new PickleException("tensor " + java.util.Arrays.toString(shape) + " at offset " + offset
                    + " needs " + extent + " elements of storage " + storage.key() + ", which has " + storageElements);
        }
        return t;
    }
}
