package dev.easel.core.format.pytorch;

import java.util.List;

/**
 * An instance of an allow-listed class that Easel does not model (a Lightning callback, a numpy scalar or array,
 * a {@code ParameterDict}): its class, the arguments it was built with and the state BUILD gave it, kept as plain
 * data. Nothing of the class is ever run.
 *
 * @param type  the class
 * @param args  constructor or reduce arguments
 * @param state the BUILD state, or {@link PyNone#NONE}
 */
public record PyObject(PyGlobal type, List<Object> args, Object state) {
    PyObject withState(Object newState) {
        return new PyObject(type, args, newState);
    }
}
