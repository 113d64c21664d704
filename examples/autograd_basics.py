"""The autograd basics: eager backward, readable formulas, and the generated kernel.

Run: python examples/autograd_basics.py
"""

import symgrad as sg

a = sg.tensor([2.0, 3.0], requires_grad=True)
b = sg.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a**3 - b**2

external_grad = sg.tensor([1.0, 1.0])
Q.backward(gradient=external_grad)
print("a.grad =", a.grad)  # tensor([36., 81.])
print("b.grad =", b.grad)  # tensor([-12., -8.])

print("\nDerivatives, as formulas:")
print(sg.formulas(lambda a, b: 3 * a**3 - b**2))

# The same gradient as one compiled function: vector-Jacobian product with all-ones upstream.
grad_q = sg.grad(lambda a, b: (3 * a**3 - b**2).sum(), argnums=(0, 1))
print("\nCompiled gradient:", grad_q(a.detach(), b.detach()))

print("\nIts IR (forward and backward, fused):")
print(grad_q.graph(a.detach(), b.detach()))

print("\nIts generated Numba kernel:")
print(grad_q.source(a.detach(), b.detach()))
