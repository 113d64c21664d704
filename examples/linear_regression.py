"""Linear regression with the PyTorch tutorial's custom layer, trained by the eager loop.

Run: python examples/linear_regression.py
"""

import symgrad as sg


class MyLinear(sg.nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = sg.nn.Parameter(sg.randn(in_features, out_features))
        self.bias = sg.nn.Parameter(sg.randn(out_features))

    def forward(self, x):
        return x @ self.weights + self.bias


def main(epochs: int = 200) -> float:
    sg.manual_seed(0)
    true_w = sg.tensor([[2.0], [-3.0], [0.5]])
    inputs = sg.randn(256, 3)
    labels = inputs @ true_w + 1.0 + 0.1 * sg.randn(256, 1)

    model = MyLinear(3, 1)
    criterion = sg.nn.MSELoss()
    optimizer = sg.optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(epochs):
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        if epoch % 20 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:3d}  loss {loss.item():.5f}")
        loss.backward()
        optimizer.step()
    weights, bias = model.weights.numpy().ravel().round(3), model.bias.numpy().round(3)
    print("learned weights:", weights, "bias:", bias)
    print()
    print(sg.formulas(lambda x, y: criterion(model(x), y), inputs[:4], labels[:4]))
    return loss.item()


if __name__ == "__main__":
    main()
