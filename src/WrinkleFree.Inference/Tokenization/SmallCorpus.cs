namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// A few kilobytes of plain English written for this project (public domain), used to train the small vocabulary of
/// synthetic models so their token ids look like those of a real tokenizer: common words whole, rare ones in pieces.
/// </summary>
internal static class SmallCorpus
{
    public const string Text = """
        The river ran slowly past the old mill, and the miller's daughter watched the water from the window every morning.
        She counted the boats that went down to the town: three in the spring, seven in the summer, and none at all when
        the ice came in December. Her father said that the river was older than the hills, and that it would still be
        running long after the mill had fallen down. She did not believe him, but she liked the story.

        In the town there was a market on Tuesdays and Saturdays. People brought bread, cheese, apples, wool and honey,
        and they sold them from wooden tables under the trees. A good loaf cost two pennies; a wheel of cheese cost a
        shilling. The children ran between the tables, and the dogs followed the children, hoping for crumbs.

        "Where are you going?" asked the teacher.
        "To the library," said the boy. "I want to read about the stars, the moon and the planets."
        "Then take this list with you, and bring the books back by Friday. We have only one copy of each."

        A simple recipe for tea: boil the water, warm the pot, add one spoon of leaves for each person and one for the
        pot, pour the water, wait four or five minutes, and serve it with milk or lemon. Some people add sugar; others
        think that is a mistake. Everyone agrees that the water must be hot.

        The committee met on the 14th of March at 10:30 in the morning. Present were the chair, the secretary, the
        treasurer and nine members. The treasurer reported that the society had 1,245 pounds in the bank, an increase of
        12 percent over the previous year. The secretary read the minutes of the last meeting, which were approved. It was
        agreed that the annual dinner would be held in June, that the price of a ticket would remain the same, and that
        new members would be welcome at any time.

        Weather report: cloudy in the north with light rain, sunny spells in the south, winds from the west at 15 to 20
        miles per hour. Temperatures between 8 and 14 degrees. Tomorrow will be brighter, but colder at night.

        def add(a, b):
            return a + b

        for i in range(10):
            print(i, add(i, i * 2))

        int count = 0;
        if (count < 100) { count += 1; }
        return count;

        Questions and answers. What is the capital of France? Paris. How many days are there in a week? Seven. Which
        is larger, a mouse or an elephant? An elephant. Why is the sky blue? Because air scatters blue light more than
        red light. Can you help me write a short letter? Of course; tell me who it is for and what you want to say.

        Dear Sir or Madam, I am writing to thank you for your kind letter of the 3rd of May. I was very glad to hear that
        the garden is doing well and that the new trees have survived the winter. I hope to visit in the summer, when
        the roses are in flower. With best wishes, yours sincerely, Margaret.

        Machines that learn from data are now part of everyday life. A model reads text, predicts the next word, and
        improves a little each time it makes a mistake. Small models are fast and cheap; large models know more, but
        they need more memory and more power. Engineers try to keep the quality while making the model smaller, for
        example by storing each weight with fewer bits. A ternary weight is minus one, zero or plus one.

        The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. How vexingly quick daft
        zebras jump! Sphinx of black quartz, judge my vow. These sentences use every letter of the alphabet at least once.

        Numbers: 0 1 2 3 4 5 6 7 8 9 10 11 12 20 25 50 64 99 100 128 256 512 1000 1024 2048 4096 2024 3.14 2.5 0.001.
        Punctuation: commas, full stops. Question marks? Exclamation marks! Colons: semicolons; dashes - and (brackets),
        [square brackets], {braces}, 'single quotes', "double quotes", slashes / and back\slashes, 50% and $20 and #1 & @home.

        Once upon a time, in a small village by the sea, there lived an old fisherman and his wife. Every day he went out
        in his boat, and every evening he came home with a basket of fish. One day he caught a fish that could speak.
        "Let me go," said the fish, "and I will give you anything you wish." The fisherman was kind, so he let the fish go
        and asked for nothing. When he told his wife, she was not pleased. "Go back," she said, "and ask for a new house."
        He went back to the sea and called the fish, and the fish came and listened, and the wife got her house. But she
        was still not happy, and she sent him back again and again, each time asking for more, until the sea grew dark
        and the fish said no more. When the fisherman came home, the house was gone, and his wife was sitting in front of
        the old hut, just as before. They lived there together for the rest of their lives, and they were content.
        """;
}
