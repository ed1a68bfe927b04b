// Independent cross-check used by test_xades.py: validates XML-DSig/XAdES files with the JDK's
// built-in javax.xml.crypto.dsig implementation. Run: java XadesVerify.java file.xml...
import javax.xml.crypto.dsig.*;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.*;
import java.io.*;
import java.security.cert.*;

public class XadesVerify {
    public static void main(String[] args) throws Exception {
        for (String path : args) {
            DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
            dbf.setNamespaceAware(true);
            Document doc = dbf.newDocumentBuilder().parse(new FileInputStream(path));
            NodeList sps = doc.getElementsByTagNameNS("http://uri.etsi.org/01903/v1.3.2#", "SignedProperties");
            for (int i = 0; i < sps.getLength(); i++) ((Element) sps.item(i)).setIdAttribute("Id", true);
            Element sig = (Element) doc.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature").item(0);
            sig.setIdAttribute("Id", true);
            String b64 = doc.getElementsByTagNameNS(XMLSignature.XMLNS, "X509Certificate").item(0).getTextContent().replaceAll("\\s", "");
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(java.util.Base64.getDecoder().decode(b64)));
            DOMValidateContext ctx = new DOMValidateContext(cert.getPublicKey(), sig);
            ctx.setProperty("org.jcp.xml.dsig.secureValidation", Boolean.FALSE);
            XMLSignature s = XMLSignatureFactory.getInstance("DOM").unmarshalXMLSignature(ctx);
            boolean ok = s.validate(ctx);
            StringBuilder sb = new StringBuilder();
            for (Object r : s.getSignedInfo().getReferences()) sb.append(((Reference) r).validate(ctx) ? "R+" : "R-");
            System.out.println(path + " valid=" + ok + " sigval=" + s.getSignatureValue().validate(ctx) + " refs=" + sb);
        }
    }
}
