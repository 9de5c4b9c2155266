package dev.easel.core.runtime;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a use of freed Java-owned memory visible: collects garbage (freeing the direct buffers no Java object holds
 * any more), then allocates direct buffers of the small sizes DJL uses and fills them with {@code 0xFF} bytes, so the
 * allocator hands the freed blocks back filled with NaNs. A tensor still reading such a block reads NaN.
 */
public final class FreedMemory {
    private FreedMemory() {
    }

    public static void poison() {
        System.gc();
        List<ByteBuffer> junk = new ArrayList<>();
        for (int size = 4; size <= 1 << 17; size *= 2) {
            for (int i = 0; i < 32; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(size);
                while (b.hasRemaining()) {
                    b.put((byte) 0xFF);
                }
                junk.add(b);
            }
        }
        junk.clear();
    }
}
