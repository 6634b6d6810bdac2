"""Reports in languages the rules do not read (Spanish, Arabic, Chinese, ...).

The rules' words are English, German and French. Read with them, a complete Spanish report
found nothing and scored near 0: it went back to the customer, with English questions, for
facts it held. Told apart, such a report's unfound facts are *unchecked*, not missing: the
customer is not asked for them, the agent is told why, and what needs no words (a captured
page, a console error, a numbered list, a pasted trace) still counts.
"""

# ruff: noqa: RUF001  (the reports are written in other scripts: their letters are the point)

from __future__ import annotations

import pytest

from bugline.intake.triage import needs_info
from bugline.triage import language
from bugline.triage.engine import triage
from bugline.triage.report import ConsoleLine, TriageInput
from bugline.triage.rules import default_rules

RULES = default_rules()

# The same report in each language: paying fails on checkout with a message, the expectation,
# three steps, every time, all customers.
CHECKOUT = {
    "es": (
        "No puedo pagar",
        "Cuando hago clic en Pagar en la página de pago aparece el error 'Pago rechazado'. Esperaba "
        "que se procesara el pedido. Pasos: 1. Añadir un producto al carrito 2. Ir a la caja 3. Hacer "
        "clic en Pagar. Pasa siempre, a todos nuestros clientes.",
    ),
    "it": (
        "Non riesco a pagare",
        "Quando clicco su Paga nella pagina di pagamento appare l'errore 'Pagamento rifiutato'. Mi "
        "aspettavo che l'ordine venisse elaborato. Succede sempre, a tutti i nostri clienti.",
    ),
    "pt": (
        "Não consigo pagar",
        "Quando clico em Pagar aparece o erro 'Pagamento recusado' e não consigo terminar a compra. "
        "Isso acontece sempre com todos os nossos clientes.",
    ),
    "nl": (
        "Betalen lukt niet",
        "Als ik op Betalen klik krijg ik een foutmelding en kan ik de bestelling niet afronden. Dit "
        "gebeurt altijd, bij al onze klanten.",
    ),
    "pl": ("Nie mogę zapłacić", "Kiedy klikam Zapłać, pojawia się błąd i nie mogę dokończyć zakupu."),
    "sv": ("Kan inte betala", "När jag klickar på Betala får jag ett fel och jag kan inte slutföra köpet."),
    "ar": ("لا أستطيع الدفع", "عندما أنقر على زر الدفع تظهر رسالة خطأ ولا أستطيع إكمال الشراء في كل مرة."),
    "ru": (
        "Не могу оплатить",
        "Когда я нажимаю «Оплатить», появляется ошибка, и я не могу завершить покупку.",
    ),
    "zh": ("无法付款", "点击支付按钮时出现错误，无法完成购买。每次都这样，所有客户都受影响。"),
    "ja": ("支払いができない", "支払いボタンをクリックするとエラーが表示され、購入を完了できません。"),
    "ko": ("결제가 안 됩니다", "결제 버튼을 클릭하면 오류가 나타나고 구매를 완료할 수 없습니다."),
}
ENGLISH = (
    "Can't pay",
    "When I click Pay on the checkout page the error 'Payment declined' appears. I expected the "
    "order to be processed. Steps: 1. Add a product to the cart 2. Go to checkout 3. Click Pay. "
    "It happens every time, to all our customers.",
)


@pytest.mark.parametrize("code", sorted(CHECKOUT))
def test_the_language_of_a_report_the_rules_do_not_read_is_told(code: str) -> None:
    assert language.code(CHECKOUT[code]) == code
    assert language.for_rules(CHECKOUT[code]) == "other"


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        # A message quoted in another language does not make an English report foreign.
        (
            ("Pay fails", "When I click Pay the page shows 'No se puede procesar el pago' and nothing else."),
            "en",
        ),
        (
            ("Pay fails", "When I click Pay the page shows «Ошибка оплаты» and the order is not created."),
            "en",
        ),
        (
            ("Pay fails", 'When I click Pay it says "系统错误，请稍后再试" and the order is not created.'),
            "en",
        ),
        # Nor does an English stack trace make a Spanish one English.
        (
            (
                "Error al pagar",
                "Hola, cuando hago clic en Pagar aparece un error y no puedo terminar la compra. Pasa siempre "
                "desde ayer:\n"
                "TypeError: Cannot read properties of undefined (reading 'total')\n"
                "    at OrderTotal (main.js:12:3)\n    at render (vendor.js:1:1)",
            ),
            "es",
        ),
        (("Der Export geht nicht", "Wenn ich auf Export klicke, passiert nichts."), "de"),
        (("L'export ne marche pas", "Quand je clique sur Export, il ne se passe rien."), "fr"),
        (("No funciona", ""), ""),  # too short to tell: read in every language, as before
    ],
)
def test_quotes_and_pasted_traces_do_not_decide_the_language(texts: tuple[str, ...], expected: str) -> None:
    assert language.code(texts) == expected


# English reports with foreign words in them: place names, SQL aliases, URLs, paths, code, a
# quoted message, a log, names, a mail footer. Taking one of them for another language would
# stop asking its customer for the facts it lacks, so none may be.
ENGLISH_WITH_FOREIGN_WORDS = [
    (
        "Payment error",
        "When I click Pay the page shows 'No se puede procesar el pago porque la tarjeta está vencida, "
        "por favor intente de nuevo cuando tenga otra tarjeta o hable con su banco' and nothing happens.",
    ),
    (
        "Store locator broken",
        "Store locator shows no results for Los Angeles, Las Vegas or El Paso. Chrome 120.",
    ),
    (
        "Report query slow",
        "Query times out:\nSELECT el.id, los.name, las.total FROM elements el JOIN lots los ON el.lot=los.id "
        "JOIN lasts las ON las.id=el.id WHERE el.status='open'\nTakes 40s",
    ),
    ("Link", "[los angeles store](https://x.io/el/los/las) 404"),
    (
        "Blank",
        "Blank page on https://shop.example.com/es/todos-los-productos/por-categoria/esta-semana Chrome 120",
    ),
    ("Crash", "Crash in /home/app/src/nao/uma/isso/meu/minha.py line 3"),
    ("Build", "Build fails: cannot find /srv/het/een/niet/deze/naar/config.yml"),
    (
        "det",
        "np.linalg.det crashes:\ndet = np.linalg.det(A)\nsom = MiniSom(10,10)\natt = model.att\nValueError",
    ),
    (
        "Save fails",
        "When I save the file the app shows an error dialog: 保存失败：磁盘空间不足，请清理后重试. "
        "It happens every time on Windows 11.",
    ),
    ("Sync", "Sync fails for user 김민준 이서연 박지훈 최수아. Error 500."),
    (
        "Export",
        "Hi team, the export of the monthly report fails with a timeout since Monday. We tried twice.\n\n--\n"
        "Detta e-postmeddelande är konfidentiellt och endast avsett för mottagaren. Om du har fått det av "
        "misstag, vänligen radera det.",
    ),
    # Mail: a foreign signature, footer or sign-off under English words (the reporter's own
    # words end where the mail's furniture starts), even when a ";" or "&amp;" is in the text.
    (
        "Login",
        "When I try to log in, the page reloads and I am back at the start; this started after your "
        "update yesterday and happens on Chrome and Firefox.\n\n田中太郎",
    ),
    (
        "Password reset email not received",
        "Password reset mail never arrives for our users.\n--\nDit bericht kan vertrouwelijke informatie "
        "bevatten en is uitsluitend bestemd voor de geadresseerde. Als u niet de geadresseerde bent, wordt "
        "u verzocht ons te informeren en het bericht te verwijderen.",
    ),
    (
        "Login broken",
        "Login broken.\n\nEste correo y sus anexos son confidenciales. Si usted no es el destinatario, por "
        "favor bórrelo y avise al remitente. Gracias.",
    ),
    ("Sync fails", "Sync fails.\n\nС уважением,\nИван Петров\nМенеджер по работе с клиентами"),
    (
        "Spanish locale: wrong strings on account page",
        "Spanish labels on the account page are wrong:\nMi cuenta -> shows Tu cuenta\nTodos los pedidos\n"
        "No hay pedidos todavía\nGracias por tu compra\nPlease fix before release.",
    ),
    (
        "Nightly sync",
        "The sync job fails every night. Here is the log:\n2026-11-20 02:00:01 同步失败 用户 数据 错误\n"
        "2026-11-20 02:00:02 同步失败 用户 数据 错误\n2026-11-20 02:00:03 重试 失败",
    ),
]


@pytest.mark.parametrize("texts", ENGLISH_WITH_FOREIGN_WORDS, ids=[t[0] for t in ENGLISH_WITH_FOREIGN_WORDS])
def test_an_english_report_with_foreign_words_in_it_is_still_asked_for_facts(texts: tuple[str, str]) -> None:
    assert language.for_rules(texts) != "other"
    result = triage(TriageInput(title=texts[0], description=texts[1]), RULES)
    assert result.completeness.unread_language == ""
    assert result.completeness.missing and result.completeness.questions


def test_a_german_report_signed_off_in_italian_stays_german() -> None:
    texts = (
        "Lieferung fehlt",
        "Die Lieferung ist nicht angekommen; laut Tracking wurde sie gestern zugestellt.\n\n"
        "Cordiali saluti, grazie\nMarco Rossi, Trattoria della Nonna, ogni giorno alla sera",
    )
    assert language.for_rules(texts) != "other"


def test_the_error_text_is_the_screens_words_not_the_reporters() -> None:
    # An English customer of a Spanish shop copies its message: the report is still English.
    report = TriageInput(
        title="Payment fails",
        trying_to_do="Pay for my order",
        actual="Error shown",
        error_text="No hay stock para este producto. Por favor, inténtelo más tarde. Gracias por su paciencia.",
    )
    c = triage(report, RULES).completeness
    assert c.unread_language == "" and "expected" in c.missing and c.questions


@pytest.mark.parametrize(
    ("code", "texts"),
    [
        (
            "es",
            (
                "Error al iniciar sesión",
                "Hola, no puedo entrar a mi cuenta. Me sale un mensaje de contraseña incorrecta aunque la "
                "cambié ayer. Ya probé en otro navegador.",
            ),
        ),
        (
            "it",
            ("Carrello", "Quando aggiungo un prodotto al carrello, il carrello resta vuoto. Succede sempre."),
        ),
        (
            "tr",
            (
                "Sepet",
                "Sepete ürün ekledikten sonra sepet boş görünüyor. Bu sorun her zaman oluyor ve çok can sıkıcı.",
            ),
        ),
        (
            "nl",
            (
                "Knop",
                "De knop Opslaan doet niets als ik op de pagina ben. Het werkt niet in Chrome en ook niet.",
            ),
        ),
        ("pl", ("Płatność", "Nie mogę zapłacić za zamówienie, strona się zawiesza. Proszę o pomoc.")),
        (
            "id",
            (
                "Keranjang",
                "Setelah menambahkan produk ke keranjang, keranjang masih kosong. Saya sudah coba lagi.",
            ),
        ),
        (
            "da",
            (
                "Kurv",
                "Når jeg lægger et produkt i kurven, er kurven tom. Det sker hver gang, og jeg kan ikke betale.",
            ),
        ),
        (
            "cs",
            (
                "Košík",
                "Když přidám produkt do košíku, košík je prázdný. Zkoušel jsem i jiný prohlížeč a nemohu zaplatit.",
            ),
        ),
        (
            "ro",
            (
                "Coș",
                "După ce adaug un produs în coș, coșul este gol. Nu pot plăti și se întâmplă de fiecare dată.",
            ),
        ),
        (
            "vi",
            (
                "Giỏ hàng",
                "Khi tôi thêm sản phẩm vào giỏ hàng, giỏ hàng vẫn trống. Tôi không thể thanh toán được.",
            ),
        ),
        (
            "hu",
            (
                "Kosár",
                "Amikor hozzáadok egy terméket a kosárhoz, a kosár üres marad. Nem tudok fizetni, és ez már van.",
            ),
        ),
        (
            "fa",
            ("پرداخت", "وقتی روی دکمه پرداخت کلیک می‌کنم خطا نمایش داده می‌شود و نمی‌توانم خرید را تمام کنم."),
        ),
        (
            "uk",
            (
                "Оплата",
                "Коли я натискаю «Оплатити», з'являється помилка, і я не можу завершити покупку. Це щоразу.",
            ),
        ),
    ],
)
def test_short_reports_in_more_languages_are_told(code: str, texts: tuple[str, str]) -> None:
    assert language.code(texts) == code
    assert language.name(code) != language.name("xx")  # every code told has a name to show


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (
            "es",
            "Hola, desde el lunes la app no me deja registrar ventas. Cuando le doy a guardar aparece "
            "un mensaje de error y se pierde todo lo que escribí. Ya reinstalé la app y sigue igual.",
        ),
        (
            "it",
            "Buongiorno, da lunedì il gestionale non genera più le fatture elettroniche. Compare un "
            "messaggio di errore e l'ordine resta bloccato. Ho provato anche da un altro computer.",
        ),
    ],
)
def test_french_words_spanish_and_italian_write_too_do_not_make_them_french(code: str, text: str) -> None:
    # "la", "le", "un", "que", "il" are French function words and Spanish or Italian ones: they
    # made these French (read with French rules, and mailed in French).
    assert language.code(("", text)) == code


@pytest.mark.parametrize("code", ["es", "it", "ar", "zh"])
def test_a_report_the_rules_cannot_read_is_not_sent_back_for_facts(code: str) -> None:
    title, description = CHECKOUT[code]
    result = triage(TriageInput(title=title, description=description), RULES)
    c = result.completeness
    assert c.unread_language == code
    assert c.missing == () and c.questions == {}
    assert "steps_to_reproduce" in c.unchecked and "expected" in c.unchecked
    unread = [f for f in c.findings if f.source == "unread"]
    assert {f.fact for f in unread} == set(c.unchecked)
    assert all(f.note == f"not read: written in {language.name(code)}" for f in unread)
    assert result.classification.kind == "bug"
    assert not needs_info(result, RULES)
    # Its English twin is read, and what it lacks is asked for.
    english = triage(TriageInput(title=ENGLISH[0], description=ENGLISH[1]), RULES).completeness
    assert english.unread_language == "" and english.unchecked == ()
    assert set(english.missing) == {"environment", "evidence"}
    assert english.questions


def test_what_needs_no_words_is_still_found_in_a_report_the_rules_cannot_read() -> None:
    title, description = CHECKOUT["es"]
    report = TriageInput(
        title=title,
        description=description,
        page_url="https://shop.example/checkout",
        browser="Chrome 131",
        console=(ConsoleLine("error", "TypeError: Cannot read properties of undefined (reading 'total')"),),
    )
    c = triage(report, RULES).completeness
    found = {f.fact for f in c.findings if f.present}
    assert {"environment", "error_text", "evidence"} <= found
    assert not {"environment", "error_text", "evidence"} & set(c.unchecked)
    bare = triage(TriageInput(title=title, description=description), RULES).completeness
    assert c.score > bare.score


def test_a_vague_english_report_still_goes_back() -> None:
    result = triage(TriageInput(title="broken", description="it doesn't work, please fix"), RULES)
    assert result.completeness.unread_language == ""
    assert needs_info(result, RULES)


def test_severity_says_the_words_were_not_read_and_still_weighs_the_page() -> None:
    title, description = CHECKOUT["es"]
    bare = triage(TriageInput(title=title, description=description), RULES).severity
    assert bare.reasons == (f"= written in a language the rules do not read; every report starts at {50:g}",)
    on_checkout = triage(
        TriageInput(title=title, description=description, page_url="https://shop.example/checkout/pay"),
        RULES,
    ).severity
    assert on_checkout.score > bare.score
    assert any("checkout" in r for r in on_checkout.reasons)
    # The English text model stays silent: it knows none of these words.
    assert not any("past" in r and "reports" in r for r in on_checkout.reasons)


@pytest.mark.parametrize(
    ("code", "fields"),
    [
        (
            "zh",
            {
                "title": "无法付款",
                "trying_to_do": "我想为订单付款",
                "expected": "订单应该成功支付",
                "actual": "点击支付按钮时出现错误，无法完成购买",
                "steps": "1. 打开购物车\n2. 点击结账\n3. 点击支付",
            },
        ),
        (
            "ar",
            {
                "title": "لا أستطيع الدفع",
                "trying_to_do": "أردت دفع ثمن الطلب",
                "expected": "أن يتم الدفع بنجاح",
                "actual": "تظهر رسالة خطأ ولا أستطيع إكمال الشراء",
                "steps": "1. افتح السلة\n2. انقر على الدفع\n3. انقر على ادفع الآن",
            },
        ),
    ],
)
def test_the_widgets_fields_answered_in_another_script_count_as_answers(
    code: str, fields: dict[str, str]
) -> None:
    # Chinese writes no spaces: each character counts as a word, so a sentence is no "vague" one-worder.
    c = triage(
        TriageInput(**fields, frequency="always", people_affected="everyone", browser="Chrome 131"), RULES
    )
    sources = {f.fact: f.source for f in c.completeness.findings}
    for fact in ("trying_to_do", "expected", "actual", "steps_to_reproduce", "frequency", "affected"):
        assert sources[fact] == "field", (fact, c.completeness.findings)
    assert c.completeness.unread_language == code
    assert c.completeness.score >= RULES.completeness.threshold


# --- the customer's locale as a hint ---------------------------------------------------------

# Short reports as customers write them: too few words to tell from the text alone (each of
# these is "" or read as English, German or French without its locale).
SHORT_WITH_LOCALE = [
    ("es-ES", "es", "No puedo pagar", "Al pulsar Pagar sale un error y no se completa el pedido."),
    ("es-MX", "es", "Carrito vacío", "Después de añadir un producto el carrito está vacío."),
    ("es", "es", "Login", "No me deja entrar, dice contraseña incorrecta pero es la correcta."),
    ("pt-BR", "pt", "Carrinho vazio", "Depois de adicionar um produto o carrinho fica vazio."),
    ("pt_PT", "pt", "Erro ao salvar", "Quando salvo o formulário aparece uma mensagem de erro."),
    ("it-IT", "it", "Carrello vuoto", "Dopo aver aggiunto un prodotto il carrello è vuoto."),
    ("it", "it", "", "La pagina delle fatture non si carica da ieri."),
    ("nl-NL", "nl", "Winkelwagen leeg", "Na het toevoegen van een product is de winkelwagen leeg."),
    ("nl-BE", "nl", "Opslaan", "Bij het opslaan van het formulier verschijnt een fout."),
    ("pl-PL", "pl", "Nie mogę zapłacić", "Po kliknięciu Zapłać pojawia się błąd."),
    ("pl", "pl", "Pusty koszyk", "Po dodaniu produktu koszyk jest pusty."),
    ("tr-TR", "tr", "Ödeme yapamıyorum", "Öde butonuna basınca hata çıkıyor."),
    ("tr", "tr", "Giriş", "Giriş yapamıyorum, şifre yanlış diyor ama doğru."),
    ("sv-SE", "sv", "Kan inte betala", "När jag klickar på Betala visas ett fel."),
    ("da-DK", "da", "Kan ikke betale", "Når jeg klikker på Betal, kommer der en fejl."),
    ("nb-NO", "da", "Kan ikke betale", "Når jeg klikker på Betal, kommer det en feil."),
    ("es-ES", "es", "Pedido duplicado", "Hice un solo pedido y me lo cobraron dos veces en la tarjeta."),
    (
        "it-IT",
        "it",
        "Fattura non si apre",
        "Quando provo a scaricare la fattura di ottobre vedo una pagina bianca.",
    ),
    (
        "tr-TR",
        "tr",
        "İndirim kodu",
        "İndirim kodu geçersiz diyor ama yeni gönderdiniz.",
    ),  # İ: no "i" split off
    (
        "da-DK",
        "da",
        "Dobbelt trukket",
        "Jeg har lagt én ordre, men beløbet er trukket to gange.",
    ),  # "to": two
    ("cs-CZ", "cs", "", "Nemohu změnit doručovací adresu, tlačítko Uložit nereaguje."),
    ("tr-TR", "tr", "", "Şifremi değiştiremiyorum, hata veriyor."),  # four words, "-iyor"
    (
        "es-ES",
        "es",
        "No carga la factura",
        "Cuando intento descargar la factura me sale una pantalla en blanco.",
    ),
    ("it-IT", "it", "", "I clienti non ricevono il codice via SMS."),  # "via": Italian too
    ("ro-RO", "ro", "", "Factura pe martie are TVA de două ori."),  # "are": Romanian too
    # A third review's, on texts written blind: strict rules said French on words Spanish and
    # Italian write too ("la", "el", "il", "ma", "non"), a greeting was cut as a sign-off,
    # Swedish "logga in" was blocked by English "in".
    (
        "it-IT",
        "it",
        "Problema con la consegna",
        "Buongiorno, il corriere ha segnato il pacco come consegnato ma io non l'ho ricevuto. Nessuno "
        "ha suonato il campanello e non c'è nessun avviso nella cassetta.",
    ),
    (
        "es-ES",
        "es",
        "Facturas duplicadas",
        "Este mes nos han llegado dos facturas con el mismo número. Una es de 45 euros y la otra de "
        "54. No entendemos cuál es la correcta.",
    ),
    (
        "it-IT",
        "it",
        "Notifiche doppie",
        "Ciao a tutti. Da una settimana ricevo tutte le notifiche due volte. Ho controllato sia sul "
        "telefono che sul tablet.",
    ),
    (
        "sv-SE",
        "sv",
        "Kan inte logga in",
        "Jag kan inte logga in i appen sedan uppdateringen, det står att lösenordet är fel.",
    ),
    # A final review's: an opening thanks line under a long title is a greeting, not a
    # signature; a footer's words ("riservata", "destinatario") in the first sentence are no
    # footer; Italian elisions ("all'area") are no English "all".
    (
        "es-ES",
        "es",
        "La factura de octubre no se descarga en la web",
        "Gracias por la respuesta. Sigue igual.",
    ),
    (
        "it-IT",
        "it",
        "Area riservata",
        "Non riesco ad accedere all'area riservata, la pagina resta bianca dopo il login.",
    ),
    ("es-ES", "es", "Correo", "El destinatario no recibe el correo de confirmación después de pagar."),
]


@pytest.mark.parametrize(("locale", "code", "title", "description"), SHORT_WITH_LOCALE)
def test_a_short_report_is_told_by_the_customers_locale(
    locale: str, code: str, title: str, description: str
) -> None:
    assert language.code((title, description)) != code  # the text alone is too short
    assert language.code((title, description), locale) == code
    c = triage(TriageInput(title=title, description=description, locale=locale), RULES).completeness
    assert c.unread_language == code and c.questions == {}


# A customer whose browser speaks another language who writes in English, German or French,
# or too little to tell, is read as before: the hint never outweighs the rules' own words.
# Several are shapes real reports took that an early version got wrong.
STAYS_WITH_LOCALE = [
    ("es", "Cannot open página Mi Cuenta", "It shows a blank screen."),
    ("es", "Checkout broken", "When I click Pagar the order is not created. Happens every time."),
    ("es", "Export button", "The Exportar button does nothing."),
    ("es-MX", "Login fails", "I cannot log in to Mi Cuenta, it says Contraseña incorrecta."),
    ("es", "Bug", "No funciona"),  # two words: too short to tell, hint or not
    ("es", "Store locator", "Store locator shows nothing for Los Angeles or Las Vegas."),
    ("es", "500 on /api/pedidos", "POST /api/pedidos/12 returns 500"),
    ("pt-BR", "Invoices page", "The Faturas page (Minhas faturas) does not load."),
    ("it", "Cart empty", "After adding a product the Carrello is empty. Tried in Chrome and Firefox."),
    ("nl", "Typo in settings", "Settings > Notifcations is misspelled."),  # "is": Dutch too
    ("nl", "Console error", "TypeError: data is undefined = {message: 'data is undefined'}"),
    ("nl", "Duplicate Requirement", "SRS Requirement FSW.SC.21 is an exact duplicate of FSW.SC.18"),
    ("cs", "Update lz4", "Update Hadoop's lz4 to v1.9.2"),  # "s", "v", "to": Czech too
    ("pl", "NPE during debugging", "I'll attach a picture"),  # "i", "a": Polish too
    ("tr", "Login", "Can't log in, it says şifre yanlış."),
    ("es", "Zahlung", "Wenn ich auf Bezahlen klicke, kommt ein Fehler."),
    ("es", "Paiement impossible", "Quand je clique sur Payer, une erreur apparaît et je ne peux pas payer."),
    # A review's reproducers that a first version took for the hinted language: English words
    # the hinted language writes too ("no", "me", "per", "in", "do", "on"), names and places
    # written with its letters, a sign-off, English cut away with a "Thanks" line, French.
    ("es", "Export empty", "Export gives me empty file, no rows"),
    ("es", "Search", "Search returns no results since yesterday, me and colleagues"),
    ("it", "Wrong price", "Price per item in cart wrong"),
    ("it", "Double charge", "Charged twice per order in checkout"),
    ("pt-BR", "Export as PDF", "Export as PDF gives no data"),
    ("pt-BR", "Sync", "Same as before: no sync on Android OS 14"),
    ("nl", "Typo", "Typo in EN version of invoice"),
    ("pl", "Buttons", "Buttons do nothing on PO page"),
    ("fi", "Crash", "Crash on iPhone SE, saving photo fails"),
    ("hu", "Van", "Van delivery address AZ missing on checkout"),
    ("es", "Mis Pedidos", "No orders in Mis Pedidos since update"),
    ("pt-BR", "Meus Pedidos", "Meus Pedidos list empty, no error"),
    ("it", "I miei ordini", "I miei ordini list empty since update"),
    ("pl", "User", "User Łukasz Wiśniewski can't log in"),
    ("pl", "Shipping", "Shipping to Łódź or Gdańsk fails, error 500"),
    ("pt-BR", "Store", "São Paulo store: no prices shown"),
    ("tr", "Store", "Eskişehir store missing on map, Muğla too"),
    ("ro", "Store", "Brașov store: wrong address, Timișoara too"),
    ("vi", "User", "User Trần Đức Thắng can't log in"),
    ("da", "Crash on login", "Crash on login page, error 500.\nBest,\nSøren Kjær"),
    ("tr", "Export broken", "Export button gives error 500.\nBR,\nAyşe Yılmaz"),
    ("es", "Export broken", "Export button gives error 500, me too on Chrome.\nSaludos,\nJosé"),
    (
        "es-MX",
        "Mi Cuenta page: no total shown",
        "Thank you for looking into this. The total is missing when I open my account page.",
    ),
    ("es", 'Mi Cuenta page shows "The page you requested is not available" error', ""),
    ("es", "SQL", "ERROR: relation usuarios does not exist\nSELECT * FROM usuarios WHERE id = 5"),
    ("es", "Problème", "Problème de connexion en mode mobile, la page reste blanche"),
    ("es", "Erreur de paiement en ligne, Mi Cuenta bloquée", ""),
    ("es", "Bug", "Browser: Chrome\nOS: Windows 11\nProblem: Mi Cuenta no loading, no error"),
    # A second review's: German and French words with letters Turkish, Swedish or Romanian
    # write too, French words Portuguese, Italian and Spanish share ("ou", "se", "si", "ci",
    # "mai", "y"), English words in the Scandinavian lists ("min", "fast"), a thanks line in
    # the customer's language under English, UI labels in sentence case, "'s" and "z-index".
    ("sv-SE", "Login slow", "Login takes 2 min, previously fast."),
    (
        "sv-SE",
        "Customer portal down",
        "Hi! Customer portal down, 502 error everywhere. Tack på förhand! /Erik",
    ),
    ("es-ES", "Coupon error", "Coupon WELCOME5 gives error, valid until June.\nMuchas gracias por su ayuda."),
    ("nl-NL", "Import error", "Product import fails, error line 1.\nAlvast bedankt voor de hulp!"),
    ("da-DK", "Report missing rows", "Weekly report missing last 2 days.\nPå forhånd tak for hjælpen."),
    ("es-ES", "Añadir al carrito greyed", "Ver mis pedidos also blank, Chrome 121."),
    ("ro-RO", "Adaugă în coș broken", "Nothing added, Chrome Android."),
    ("tr-TR", "Rechnung gelöscht", "Kundenkonto zurückgesetzt, Zahlung ungültig."),
    ("sv-SE", "Upload hängt", "Ladebalken bleibt hängen, später Fehlermeldung."),
    ("ro-RO", "Export langsam", "Dauert ca. 10 min, nu ja, früher schneller."),
    ("ro-RO", "Message d'erreur", "Erreur apparaît puis disparaît, paiement bloqué."),
    ("tr-TR", "Reçu manquant", "Aucun reçu, aperçu vide, commande validée."),
    ("pt-PT", "Paiement refusé", "Carte refusée ou erreur 3D Secure, se produit à chaque essai."),
    ("it-IT", "Erreur à la connexion", "Message d'erreur ci-dessous, si besoin capture d'écran dispo."),
    ("es-ES", "Panier", "Mon panier se vide, y compris les articles sauvegardés."),
    ("cs-CZ", "User's avatar hidden behind header", "z-index issue, Safari 17."),
    ("pl-PL", "Tooltip behind modal", "z-index wrong, ten users reported, Chrome + Edge."),
    ("es-MX", "Flash sale timer wrong", "Countdown shows 0, sale still active, todo reminders fine."),
    ("it-IT", "Map poi icons missing", "Poi layer empty, del key deletes route instead."),
    ("nl-NL", "Smart lock", "Front door unlocks itself, door sensor op status wrong."),
    ("it-IT", "Metadata", "metadata import returns stale values"),  # looks Italian ("-ata"): no shape
    # A final review's: nouns of the strict lists written as a UI label in Title Case.
    ("es-ES", "Página Mi Cuenta: 404 error", "Login page fine, Chrome 121."),
    ("tr-TR", "Sepet Sayfa: 404 error", "Login page fine, Chrome 121."),
    ("it-IT", "Ciao", "Ciao! The booking page shows no free slots for the whole month. Grazie mille, Paolo"),
    ("it-IT", "Ciao", "Ciao, die Buchungsseite zeigt den ganzen Monat keine freien Termine. Grazie, Paolo"),
    ("en-US", "Carrito vacío", "Después de añadir un producto el carrito está vacío."),  # no unread hint
    ("zh-CN", "Carrito vacío", "Después de añadir un producto el carrito está vacío."),
    ("", "Carrito vacío", "Después de añadir un producto el carrito está vacío."),
]


@pytest.mark.parametrize(("locale", "title", "description"), STAYS_WITH_LOCALE)
def test_the_locale_never_outweighs_the_rules_own_words(locale: str, title: str, description: str) -> None:
    assert language.code((title, description), locale) == language.code((title, description))
    hinted = triage(TriageInput(title=title, description=description, locale=locale), RULES)
    plain = triage(TriageInput(title=title, description=description), RULES)
    assert hinted.completeness == plain.completeness


@pytest.mark.parametrize(
    ("locale", "hint"),
    [
        ("es-MX", "es"), ("PT_br", "pt"), ("nb-NO", "da"), ("nn", "da"), ("sv", "sv"),
        ("en-GB", ""), ("de-DE", ""), ("zh-Hans-CN", ""), ("ar", ""), ("", ""), (None, ""),
        (" es ", "es"), ("x-klingon", ""), (42, ""), (["es"], ""),
        ("es_ES.UTF-8", "es"), ("es@euro", "es"), ("es;q=0.9", "es"), ("es,en;q=0.8", "es"),
        ("fr-CA,es", ""), ("in-ID", "id"), ("*", ""),
    ],
)  # fmt: skip
def test_which_locales_hint_a_language(locale: object, hint: str) -> None:
    assert language.hint(locale) == hint  # type: ignore[arg-type]  # stored JSON may hold anything


def test_the_command_reads_the_locale_where_the_widget_and_the_api_put_it() -> None:
    short = {"title": "Carrito vacío", "description": "Después de añadir un producto el carrito está vacío."}
    for where in ({"locale": "es"}, {"context": {"locale": "es"}}):
        assert TriageInput.from_mapping({**short, **where}).locale == "es"
    # The host app's language for the reporter is not the browser's: the server does not read
    # it for triage either (it decides the mail's language, notify/locales.py).
    assert TriageInput.from_mapping({**short, "reporter": {"locale": "es"}}).locale is None
    assert TriageInput.from_mapping({**short, "context": {"locale": 7}}).locale is None
    assert TriageInput.from_mapping(short).locale is None
