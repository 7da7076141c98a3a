/* fastsum: sums a sequence of integers in C. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *fastsum_sum(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "sum() expects a sequence");
    if (seq == NULL)
        return NULL;
    long long total = 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return NULL;
        }
        total += v;
    }
    Py_DECREF(seq);
    return PyLong_FromLongLong(total);
}

static PyMethodDef methods[] = {
    {"sum", fastsum_sum, METH_O, "Sum a sequence of integers."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastsum", NULL, -1, methods};

PyMODINIT_FUNC PyInit_fastsum(void) { return PyModule_Create(&module); }
