"""The two seed models of our origin notes, as torch modules built on any recurrent class."""
import torch
from torch import nn


class StackedRegressor(nn.Module):
    """A stacked recurrent regressor: the last layer's final hidden state into ``Linear(H, 1)``.

    x (B, T, input_size) -> (B, 1).  ``rnn_class`` is ``nn.RNN`` (the notes' choice),
    ``nn.GRU``, ``nn.LSTM`` or any drop-in class with torch's constructor; for LSTM the
    final state is the pair (h_n, c_n) and h_n is used.
    """

    def __init__(self, input_size, hidden_size, rnn_class=nn.RNN, num_layers=2):
        super().__init__()
        self.rnn = rnn_class(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        _, hidden = self.rnn(x)
        if isinstance(hidden, tuple):
            hidden = hidden[0]
        return self.fc(hidden[-1, :, :])


class BiLSTMClassifier(nn.Module):
    """The bidirectional LSTM text classifier of the notes, corrected.

    text (B, T) token ids with 0 as padding, lengths (B,) -> probabilities (B, 1):
    embedding (padding_idx=0), packed batch-first BiLSTM (enforce_sorted=False), the
    concatenated final forward and backward states ``cat(h_n[-2], h_n[-1])``, fc1, ReLU,
    fc2, sigmoid.

    Fixed from the notes: ``self_relu``/``self_sigmoid`` were assigned as locals, so
    ``self.relu``/``self.sigmoid`` did not exist (now attributes); ``fc_hidden_size`` was
    undefined in ``__init__`` (it is the ``fc_hidden`` argument, named ``fc_hidden_size``
    here); ``lengths.cpu().numpy`` was passed uncalled (pack_padded_sequence now gets the
    lengths as a CPU int64 tensor).  ``lstm_class`` lets a drop-in LSTM replace nn.LSTM.
    """

    def __init__(self, vocab_size, embed_dim, rnn_hidden_size, fc_hidden_size, lstm_class=nn.LSTM):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = lstm_class(embed_dim, rnn_hidden_size, batch_first=True, bidirectional=True)
        self.fc1 = nn.Linear(rnn_hidden_size * 2, fc_hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(fc_hidden_size, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, text, lengths):
        out = self.embedding(text)
        lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
        out = nn.utils.rnn.pack_padded_sequence(out, lengths, enforce_sorted=False, batch_first=True)
        _, (hidden, _) = self.rnn(out)
        out = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        return self.sigmoid(self.fc2(self.relu(self.fc1(out))))
