package dev.easel.core.format.pytorch;

import dev.easel.api.tensor.DType;

/**
 * A storage a pickle refers to by persistent id: its key (the record {@code data/<key>} in the zip format), element
 * type and element count as the pickle claims them. The claim is checked against the file before any read.
 *
 * @param key   storage key
 * @param dtype element type (U8 for untyped storages)
 * @param numel element count the pickle claims
 */
public record TorchStorage(String key, DType dtype, long numel) {
}
