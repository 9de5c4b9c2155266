package dev.easel.core.format.pytorch;

import dev.easel.api.tensor.DType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle interpreter that builds plain data and never runs anything: GLOBAL resolves only names on an allow-list
 * of what real checkpoints use (tensor rebuild functions, storages, dtypes, {@code OrderedDict}, {@code torch.Size},
 * and the inert Lightning/numpy/{@code ParameterDict} classes found in SD and A1111 files), and REDUCE, NEWOBJ and
 * BUILD are interpreted per allowed name. Any other global is refused with an error naming it, before anything
 * could call it; opcodes that exist only to run code or reach the copyreg registry are refused too.
 *
 * <p>Values: {@code Map} (dict and OrderedDict, insertion order kept), {@code List}, {@link PyTuple},
 * {@code Set}, {@code String}, {@code Long} or {@code BigInteger}, {@code Double}, {@code Boolean},
 * {@code byte[]}, {@link PyNone}, {@link TorchTensor}, {@link PyObject}, {@link PyGlobal}.
 *
 * <p>Sizes read from the stream are checked against the bytes left before anything is allocated, memo indices go
 * to a hash map (never an array sized from the file), and the stack depth is bounded by the stream length.
 */
public final class RestrictedUnpickler {
    /** Turns a persistent id (torch: a {@code ("storage", cls, key, location, numel[, view])} tuple) into a value. */
    @FunctionalInterface
    public interface PersistentLoader {
        Object load(PyTuple pid) throws PickleException;
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final ByteBuffer in;
    private final PersistentLoader persistent;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private RestrictedUnpickler(ByteBuffer in, PersistentLoader persistent) {
        this.in = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.persistent = persistent;
    }

    /**
     * Interprets one pickle from {@code in}'s position to its STOP opcode and returns the result; {@code in}'s
     * position is moved past the STOP.
     */
    public static Object load(ByteBuffer in, PersistentLoader persistent) throws PickleException {
        RestrictedUnpickler u = new RestrictedUnpickler(in, persistent);
        try {
            Object result = u.run();
            in.position(u.in.position());
            return result;
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new PickleException("truncated pickle (ends at byte " + u.in.position() + ")");
        } catch (ArithmeticException | ClassCastException e) {
            throw new PickleException("corrupt pickle at byte " + u.in.position() + ": " + e.getMessage());
        } catch (StackOverflowError e) {
            // Hashing a key nested thousands deep (or holding itself) recurses; a real checkpoint never does.
            throw new PickleException("pickle nests too deeply (or refers to itself) at byte " + u.in.position());
        }
    }

    private Object run() throws PickleException {
        while (true) {
            if (!in.hasRemaining()) {
                throw new PickleException("truncated pickle: no STOP opcode");
            }
            int at = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = in.get() & 0xff;
                    if (v > 5) {
                        throw new PickleException("unsupported pickle protocol " + v);
                    }
                }
                case 0x95 -> skip(8); // FRAME: a length hint, the opcodes follow inline
                case '.' -> { // STOP
                    Object result = pop();
                    return result;
                }
                case 'c' -> push(global(readLine(), readLine()));
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw new PickleException("STACK_GLOBAL with non-string names");
                    }
                    push(global(m, n));
                }
                case 'i', 'o' -> throw new PickleException("opcode " + (op == 'i' ? "INST" : "OBJ")
                        + " (instantiates arbitrary classes) is not allowed");
                case 0x82, 0x83, 0x84 -> throw new PickleException("copyreg extension opcodes are not allowed");
                case 0x97, 0x98 -> throw new PickleException("out-of-band buffers are not allowed");
                case 'P' -> throw new PickleException("text persistent ids are not allowed");
                case 'q' -> memo.put((long) (in.get() & 0xff), top());
                case 'r' -> memo.put(in.getInt() & 0xffffffffL, top());
                case 'p' -> memo.put(parseLong(readLine()), top());
                case 0x94 -> memo.put((long) memo.size(), top()); // MEMOIZE
                case 'h' -> push(memoGet(in.get() & 0xff));
                case 'j' -> push(memoGet(in.getInt() & 0xffffffffL));
                case 'g' -> push(memoGet(parseLong(readLine())));
                case '(' -> {
                    marks.add(stack.size());
                    stack.add(MARK);
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(top()); // DUP
                case '}' -> push(new LinkedHashMap<>());
                case ']' -> push(new ArrayList<>());
                case ')' -> push(new PyTuple(List.of()));
                case 0x8f -> push(new LinkedHashSet<>());
                case 'd' -> {
                    List<Object> items = popMark();
                    Map<Object, Object> dict = new LinkedHashMap<>();
                    putPairs(dict, items);
                    push(dict);
                }
                case 'l' -> push(new ArrayList<>(popMark()));
                case 't' -> push(new PyTuple(popMark()));
                case 0x85 -> push(new PyTuple(List.of(pop())));
                case 0x86 -> {
                    Object b = pop();
                    Object a = pop();
                    push(new PyTuple(List.of(a, b)));
                }
                case 0x87 -> {
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    push(new PyTuple(List.of(a, b, c)));
                }
                case 0x91 -> push(new LinkedHashSet<>(popMark())); // FROZENSET
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark();
                    Object set = top();
                    if (!(set instanceof Set)) {
                        throw new PickleException("ADDITEMS on a " + typeName(set));
                    }
                    @SuppressWarnings("unchecked")
                    Set<Object> s = (Set<Object>) set;
                    s.addAll(items);
                }
                case 's' -> {
                    Object v = pop();
                    Object k = pop();
                    putPairs(dictOn(top(), "SETITEM"), List.of(k, v));
                }
                case 'u' -> {
                    List<Object> items = popMark();
                    putPairs(dictOn(top(), "SETITEMS"), items);
                }
                case 'a' -> {
                    Object v = pop();
                    listOn(top(), "APPEND").add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    listOn(top(), "APPENDS").addAll(items);
                }
                case 'J' -> push((long) in.getInt());
                case 'K' -> push((long) (in.get() & 0xff));
                case 'M' -> push((long) (in.getShort() & 0xffff));
                case 0x8a -> push(readLong(in.get() & 0xff));
                case 0x8b -> {
                    long n = in.getInt() & 0xffffffffL;
                    push(readLong(checkLength(n)));
                }
                case 'I' -> {
                    String s = readLine();
                    push(s.equals("01") ? Boolean.TRUE : s.equals("00") ? Boolean.FALSE : parseLong(s));
                }
                case 'L' -> {
                    String s = readLine();
                    push(integer(new BigInteger(s.endsWith("L") ? s.substring(0, s.length() - 1) : s)));
                }
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // big-endian on the wire
                case 'F' -> push(Double.parseDouble(readLine()));
                case 'X' -> push(utf8(checkLength(in.getInt() & 0xffffffffL)));
                case 0x8c -> push(utf8(in.get() & 0xff));
                case 0x8d -> push(utf8(checkLength(in.getLong())));
                case 'V' -> push(readLine());
                case 'T' -> push(latin1(checkLength(in.getInt() & 0xffffffffL)));
                case 'U' -> push(latin1(in.get() & 0xff));
                case 'S' -> push(readLine());
                case 'B' -> push(bytes(checkLength(in.getInt() & 0xffffffffL)));
                case 'C' -> push(bytes(in.get() & 0xff));
                case 0x8e, 0x96 -> push(bytes(checkLength(in.getLong())));
                case 'N' -> push(PyNone.NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'Q' -> { // BINPERSID
                    Object pid = pop();
                    if (!(pid instanceof PyTuple t)) {
                        throw new PickleException("persistent id is a " + typeName(pid) + ", not a tuple");
                    }
                    push(persistent.load(t));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    if (!(args instanceof PyTuple t)) {
                        throw new PickleException("REDUCE arguments are a " + typeName(args) + ", not a tuple");
                    }
                    push(AllowedGlobals.call(callable, t.items()));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop();
                    Object cls = pop();
                    if (!(args instanceof PyTuple t)) {
                        throw new PickleException("NEWOBJ arguments are a " + typeName(args) + ", not a tuple");
                    }
                    push(AllowedGlobals.instantiate(cls, t.items()));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop();
                    Object args = pop();
                    Object cls = pop();
                    if (!(args instanceof PyTuple t) || !(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
                        throw new PickleException("NEWOBJ_EX with keyword arguments is not allowed");
                    }
                    push(AllowedGlobals.instantiate(cls, t.items()));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    Object obj = pop();
                    push(AllowedGlobals.build(obj, state));
                }
                default -> throw new PickleException(String.format("unknown pickle opcode 0x%02x at byte %d", op, at));
            }
        }
    }

    private Object global(String module, String name) throws PickleException {
        return AllowedGlobals.resolve(module, name);
    }

    private void push(Object o) throws PickleException {
        // Each opcode is at least one byte, so a legitimate stack never outgrows the stream.
        if (stack.size() > in.capacity()) {
            throw new PickleException("pickle stack overflow");
        }
        stack.add(o);
    }

    private Object pop() throws PickleException {
        if (stack.isEmpty()) {
            throw new PickleException("pickle stack underflow at byte " + in.position());
        }
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) {
            throw new PickleException("unexpected MARK at byte " + in.position());
        }
        return o;
    }

    private Object top() throws PickleException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw new PickleException("pickle stack underflow at byte " + in.position());
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws PickleException {
        if (marks.isEmpty()) {
            throw new PickleException("pickle has no MARK to pop to at byte " + in.position());
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private Object memoGet(long index) throws PickleException {
        Object o = memo.get(index);
        if (o == null) {
            throw new PickleException("pickle refers to memo " + index + ", which was never stored");
        }
        return o;
    }

    private static Map<Object, Object> dictOn(Object target, String op) throws PickleException {
        if (target instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked")
            Map<Object, Object> dict = (Map<Object, Object>) m;
            return dict;
        }
        throw new PickleException(op + " on a " + typeName(target) + ", not a dict");
    }

    private static List<Object> listOn(Object target, String op) throws PickleException {
        if (target instanceof List<?> l) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) l;
            return list;
        }
        throw new PickleException(op + " on a " + typeName(target) + ", not a list");
    }

    private static void putPairs(Map<Object, Object> dict, List<Object> items) throws PickleException {
        if (items.size() % 2 != 0) {
            throw new PickleException("odd number of dict items");
        }
        for (int i = 0; i < items.size(); i += 2) {
            Object k = items.get(i);
            if (k instanceof Map || k instanceof List || k instanceof Set) {
                throw new PickleException("unhashable dict key (" + typeName(k) + ")");
            }
            dict.put(k, items.get(i + 1));
        }
    }

    private int checkLength(long n) throws PickleException {
        if (n < 0 || n > in.remaining()) {
            throw new PickleException("truncated pickle: an item of " + n + " bytes at byte " + in.position()
                    + " but only " + in.remaining() + " remain");
        }
        return (int) n;
    }

    private void skip(int n) throws PickleException {
        in.position(in.position() + checkLength(n));
    }

    private String readLine() throws PickleException {
        int start = in.position();
        int limit = Math.min(in.limit(), start + 4096);
        for (int i = start; i < limit; i++) {
            if (in.get(i) == '\n') {
                byte[] b = new byte[i - start];
                in.get(b);
                in.get();
                return new String(b, StandardCharsets.UTF_8);
            }
        }
        throw new PickleException("truncated pickle: unterminated text operand at byte " + start);
    }

    private byte[] bytes(int n) throws PickleException {
        byte[] b = new byte[checkLength(n)];
        in.get(b);
        return b;
    }

    private String utf8(int n) throws PickleException {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String latin1(int n) throws PickleException {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    private Object readLong(int n) throws PickleException {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        return integer(new BigInteger(be));
    }

    private static Object integer(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static long parseLong(String s) throws PickleException {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new PickleException("bad integer operand '" + s + "'");
        }
    }

    static String typeName(Object o) {
        if (o == null) {
            return "null";
        }
        if (o instanceof PyGlobal g) {
            return "global " + g;
        }
        if (o instanceof PyObject p) {
            return p.type() + " object";
        }
        return o.getClass().getSimpleName();
    }

    /** Element type of a torch storage class name ({@code FloatStorage}, ...), if it is one. */
    static DType storageType(String name) {
        return AllowedGlobals.STORAGES.get(name);
    }
}
