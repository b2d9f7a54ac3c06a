#!/usr/bin/env python3
"""Expected values for tests/native_ops/test_nn_optim.c.

An independent float64 re-statement of the update rules documented for
torch.optim.SGD and torch.optim.Adam (PyTorch's docs give them as
pseudocode), run for three steps on tiny tensors. Prints C initialisers;
the test holds a copy of this output. Run: /usr/bin/python3 nn_optim_reference.py
"""
import numpy as np

P0 = np.array([1.0, -2.0, 0.5, 0.0])
GRADS = [np.array([0.5, -0.25, 1.0, 0.0]),
         np.array([0.1, 0.2, -0.3, 1e-3]),
         np.array([-0.4, 0.0, 0.25, -2.0])]


def sgd(lr, momentum, dampening, weight_decay, nesterov):
    p, buf = P0.copy(), None
    for g in GRADS:
        d = g + weight_decay * p
        if momentum != 0:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def adam(lr, beta1, beta2, eps, weight_decay):
    p, m, v = P0.copy(), np.zeros_like(P0), np.zeros_like(P0)
    for t, g in enumerate(GRADS, start=1):
        d = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * d
        v = beta2 * v + (1 - beta2) * d * d
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def c_array(name, values):
    return "static const float %s[4] = {%s};" % (name, ", ".join("%.9gf" % x for x in values))


print(c_array("SGD_PLAIN", sgd(0.1, 0.0, 0.0, 0.0, False)))
print(c_array("SGD_MOMENTUM_WD", sgd(0.1, 0.9, 0.0, 0.01, False)))
print(c_array("SGD_DAMPENING", sgd(0.05, 0.8, 0.3, 0.0, False)))
print(c_array("SGD_NESTEROV", sgd(0.1, 0.9, 0.0, 0.01, True)))
print(c_array("ADAM_DEFAULT", adam(0.01, 0.9, 0.999, 1e-8, 0.0)))
print(c_array("ADAM_WD", adam(0.05, 0.8, 0.99, 1e-3, 0.1)))
